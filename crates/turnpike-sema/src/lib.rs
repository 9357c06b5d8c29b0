//! Checks over loaded policy documents, and the lint driver that runs the front end and the
//! checks over a path.
//!
//! Today the checks are the front end's own (XML, expression syntax, named values); the
//! policy catalog and the type checker add theirs here.

pub mod lint;

pub use lint::{LintReport, lint_path, lint_source};
