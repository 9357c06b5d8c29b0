//! .NET library behaviour that is independent of the interpreter: number and date formatting
//! and parsing under the invariant culture.
pub mod datetime;
pub mod number;
