//! Source files, byte spans, the registry of diagnostic codes, and the two renderers
//! (rustc-style text and JSON) that every Turnpike command uses.
//!
//! A [`Diagnostic`] carries a [`Code`] from the one [registry](codes), a message written in
//! cedar's style (lowercase, no final period, user input in backticks), labelled spans and an
//! optional help line. Front-end functions return their result together with a
//! `Vec<Diagnostic>` instead of stopping at the first problem.

pub mod codes;
mod render;
mod sarif;
mod source;

pub use codes::{Code, Severity};
pub use render::{DiagnosticJson, render_human, render_json, summary_line};
pub use sarif::render_sarif;
pub use source::{FileId, SourceFile, SourceMap, Span};

/// A secondary or primary source label of a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where in the source the label points.
    pub span: Span,
    /// Text shown under the caret; may be empty.
    pub message: String,
    /// The primary label gives the diagnostic's position (`file:line:col`).
    pub primary: bool,
}

/// One finding of the compiler, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The registry entry: stable id (`TP0101`) and kebab-case name.
    pub code: &'static Code,
    /// Usually the code's default severity; configuration may change it later.
    pub severity: Severity,
    /// One lowercase sentence without a final period.
    pub message: String,
    /// Labels; the first primary one is the diagnostic's location.
    pub labels: Vec<Label>,
    /// What the user can do about it.
    pub help: Option<String>,
    /// Extra facts shown after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and a primary label at `span`.
    pub fn new(code: &'static Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity,
            message: message.into(),
            labels: vec![Label {
                span,
                message: String::new(),
                primary: true,
            }],
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the text under the primary caret.
    #[must_use]
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        if let Some(label) = self.labels.iter_mut().find(|l| l.primary) {
            label.message = message.into();
        }
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Sets the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note line.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The span of the primary label.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
    }

    /// Whether this diagnostic is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position and code, so output does not depend on check order.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        let s = d.primary_span();
        (
            s.map(|s| (s.file.index(), s.start, s.end)),
            d.code.id,
            d.message.clone(),
        )
    });
}
