//! The type model and the typed IR.
//!
//! `ty` defines the types the checker reasons about; `library` reads the .NET members policy
//! expressions may use from `grammar/library.api` (the type model as data); `ir` is the typed,
//! engine-neutral form the checker lowers expressions to and the engines run; `print` gives the
//! IR its stable text form (`turnpike compile --emit ir`).

pub mod ir;
pub mod library;
pub mod print;
pub mod ty;

pub use library::{Library, MemberId, TypeId};
pub use ty::{Prim, Ty};
