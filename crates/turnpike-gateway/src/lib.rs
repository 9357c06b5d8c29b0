//! The gateway: `turnpike run` serves an APIOps artifact folder over HTTP as APIM would.
//!
//! A folder compiles into a [`generation::Generation`]: API revisions with their operations and
//! the compiled pipeline of each (operation, product context). [`server::Gateway`] holds the
//! generation serving now behind an atomic pointer; a reload builds a new one off the request
//! path and swaps it in, and calls in flight finish on the old one. Per call: route
//! ([`routing`]), check the subscription key and pick the product context, build the request
//! state, run the pipeline with the pooled client of [`upstream`] as its backend, answer, and
//! write one access-log line ([`accesslog`]). Keys live in SQLite under the data folder
//! ([`keys`]), never in the artifact folder.

/// [`note`] with `format!` arguments.
macro_rules! note {
    ($($t:tt)*) => {
        $crate::note(&format!($($t)*))
    };
}

pub mod accesslog;
pub mod generation;
pub mod keys;
pub mod net;
pub mod pool;
pub mod routing;
pub mod run;
pub mod server;
pub mod time;
pub mod upstream;
pub mod watch;

pub use server::{Gateway, Options};

/// Writes one operational message (start, reload, stop) to standard error; the access log
/// has standard output to itself.
#[expect(clippy::print_stderr, reason = "the gateway reports to its operator")]
pub(crate) fn note(message: &str) {
    eprintln!("turnpike: {message}");
}
