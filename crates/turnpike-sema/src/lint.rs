//! The lint driver: loads every policy file of a path and collects diagnostics.

use std::io;
use std::path::Path;

use turnpike_diagnostics::{Diagnostic, Severity, SourceMap, Span, codes, sort_diagnostics};
use turnpike_syntax::files::policy_files;
use turnpike_syntax::{Document, parse_document};

/// What linting a path found.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Every file read (diagnostics point into them).
    pub sources: SourceMap,
    /// The documents, in file order.
    pub documents: Vec<Document>,
    /// All diagnostics, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Number of policy expressions found.
    pub expressions: usize,
}

impl LintReport {
    /// Number of files read.
    pub fn files(&self) -> usize {
        self.sources.len()
    }

    /// Number of diagnostics with error severity.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of diagnostics with warning severity.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// Adds one file's text (as read) under `name` and lints it.
    pub fn add_source(&mut self, name: &str, text: &str) {
        let file = self.sources.add(name, text);
        let text = self.sources.get(file).text_arc();
        let (doc, diags) = parse_document(file, &text);
        self.expressions += doc.expressions().len();
        self.diagnostics.extend(diags);
        self.documents.push(doc);
    }

    fn add_not_utf8(&mut self, name: &str, lossy: String, at: usize) {
        let file = self.sources.add(name, lossy);
        // The first bad byte became U+FFFD (3 bytes) at the same offset.
        self.diagnostics.push(
            Diagnostic::new(
                &codes::UNREADABLE_FILE,
                Span::new(file, at, at + 3),
                format!("`{name}` is not UTF-8 text"),
            )
            .with_label(format!("byte {at} is not UTF-8"))
            .with_help("save the file as UTF-8; APIM policy documents are UTF-8 text"),
        );
    }

    fn add_unreadable(&mut self, name: &str, why: &str) {
        let file = self.sources.add(name, "");
        self.diagnostics.push(
            Diagnostic::new(
                &codes::UNREADABLE_FILE,
                Span::new(file, 0, 0),
                format!("cannot read `{name}`: {why}"),
            )
            .with_help("policy files are UTF-8 text"),
        );
    }
}

/// Lints one file or every `*.xml` below a folder. Fails only when `path` itself cannot be
/// read; a file that cannot be read is a diagnostic.
pub fn lint_path(path: &Path) -> io::Result<LintReport> {
    let files = policy_files(path)?;
    let mut report = LintReport::default();
    for file in files {
        let name = file.display().to_string();
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => report.add_source(&name, &text),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    report.add_not_utf8(&name, lossy, at);
                }
            },
            Err(e) => report.add_unreadable(&name, &e.to_string().to_lowercase()),
        }
    }
    sort_diagnostics(&mut report.diagnostics);
    Ok(report)
}

/// Lints one document given as text (for tests and tools).
pub fn lint_source(name: &str, text: &str) -> LintReport {
    let mut report = LintReport::default();
    report.add_source(name, text);
    sort_diagnostics(&mut report.diagnostics);
    report
}
