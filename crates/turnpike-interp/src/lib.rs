//! The reference interpreter: runs the typed IR with .NET 8's semantics.
//!
//! `eval` walks statements and expressions over one frame of local slots; `arith` and
//! `convert` hold the CLR's operator and conversion rules; `natives` implement library members
//! by key; `context` is the request data behind `context`; `dotnet` holds number and date
//! formatting and parsing under the invariant culture. The interpreter is the semantic
//! reference for every other engine: where they differ, the interpreter is right.

pub mod arith;
pub mod context;
pub mod convert;
pub mod dotnet;
pub mod eval;
pub mod natives;
pub mod value;

pub use context::Context;
pub use eval::{Options, run};
pub use value::{Exception, Value};
