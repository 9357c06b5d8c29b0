//! Checks over loaded policy documents, and the lint driver that runs the front end and the
//! checks over a path.
//!
//! * [`catalog`]: every APIM policy element as data (`grammar/policies.toml`);
//! * [`check`]: a document against the catalog (sections, policies, attributes, children,
//!   literal values, `<base/>`);
//! * [`config`] and [`suppress`]: `turnpike.toml` severities and `turnpike-ignore` comments;
//! * [`lint`]: the driver over a path.

pub mod catalog;
pub mod check;
pub mod config;
pub mod effective;
pub mod lint;
pub mod suggest;
pub mod suppress;

pub use lint::{LintOptions, LintReport, lint_path, lint_path_with, lint_source};
