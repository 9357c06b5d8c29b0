//! Policy pipelines.
//!
//! A policy document (or an effective policy merged from scopes) compiles to a [`Pipeline`]:
//! four sections of [`Step`]s, every expression already type-checked and lowered to IR. The
//! driver ([`run`]) executes a pipeline on a [`RequestState`]: policy-level control flow
//! (sections, `choose`, early returns, errors and `on-error`) is plain async Rust; expressions
//! are evaluated by an engine synchronously over a frame built from the state, so no engine
//! frame lives across an `await`. The state itself holds only owned, `Send` data.

pub mod compile;
pub mod run;
pub mod state;

pub use compile::{Pipeline, Section, Step, Val, compile_document, compile_effective};
pub use run::{
    Backend, BackendError, BackendFuture, BackendRequest, BackendResponse, block_on, error_body,
    guid_text, run, run_on_error,
};
pub use state::{LastError, RequestState, Stored};
