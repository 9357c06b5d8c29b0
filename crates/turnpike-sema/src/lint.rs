//! The lint driver: loads every policy file of a path and collects diagnostics.

use std::io;
use std::path::Path;

use turnpike_diagnostics::{Diagnostic, Severity, SourceMap, Span, codes, sort_diagnostics};
use turnpike_syntax::files::policy_files;
use turnpike_syntax::{Document, parse_document};

use crate::catalog::Scope;
use crate::check::{CheckContext, check_document};
use crate::config::Config;
use crate::suppress;

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
    /// Number of policy files read (configuration files not counted).
    files: usize,
}

impl LintReport {
    /// Number of policy files read, unreadable ones included.
    pub fn files(&self) -> usize {
        self.files
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
        self.add_source_in(name, text, CheckContext::default());
    }

    /// Adds one file's text and lints it with what is known of where it stands.
    pub fn add_source_in(&mut self, name: &str, text: &str, ctx: CheckContext) {
        self.files += 1;
        let file = self.sources.add(name, text);
        let text = self.sources.get(file).text_arc();
        let (doc, mut diags) = parse_document(file, &text);
        // After an XML error the tree is partial: catalog checks would only echo it.
        if !diags.iter().any(|d| d.code == &codes::MALFORMED_XML) {
            diags.extend(check_document(&doc, ctx));
        }
        suppress::apply(file, self.sources.get(file), &mut diags);
        self.expressions += doc.expressions().len();
        self.diagnostics.extend(diags);
        self.documents.push(doc);
    }

    fn add_not_utf8(&mut self, name: &str, lossy: String, at: usize) {
        self.files += 1;
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
        self.files += 1;
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
///
/// A `turnpike.toml` at the root of the tree (the folder linted, or the folder of the file
/// linted) sets per-code severities.
pub fn lint_path(path: &Path) -> io::Result<LintReport> {
    let files = policy_files(path)?;
    let mut report = LintReport::default();
    let root = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    for file in files {
        let name = file.display().to_string();
        let ctx = CheckContext {
            scope: root.and_then(|r| scope_of(r, &file)),
        };
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => report.add_source_in(&name, &text, ctx),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    report.add_not_utf8(&name, lossy, at);
                }
            },
            Err(e) => report.add_unreadable(&name, &e.to_string().to_lowercase()),
        }
    }
    let mut config_diags = Vec::new();
    let config = match root {
        Some(r) => Config::load(r, &mut report.sources, &mut config_diags),
        None => Config::default(),
    };
    report.diagnostics.extend(config_diags);
    config.apply(&mut report.diagnostics);
    sort_diagnostics(&mut report.diagnostics);
    Ok(report)
}

/// The scope of a policy file in an APIOps artifact layout below `root`, from its path:
/// `policy.xml` at the root of a folder that has `apis/` (global), `products/<p>/policy.xml`,
/// `apis/<api>/policy.xml` (revisions `apis/<api>;rev=<n>` too) and
/// `apis/<api>/operations/<op>/policy.xml`. Other files have no known scope.
pub fn scope_of(root: &Path, file: &Path) -> Option<Scope> {
    let rel = file.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["policy.xml"] if root.join("apis").is_dir() => Some(Scope::Global),
        [.., "products", _, "policy.xml"] => Some(Scope::Product),
        [.., "apis", _, "operations", _, "policy.xml"] => Some(Scope::Operation),
        [.., "apis", _, "policy.xml"] => Some(Scope::Api),
        _ => None,
    }
}

/// Lints one document given as text (for tests and tools).
pub fn lint_source(name: &str, text: &str) -> LintReport {
    let mut report = LintReport::default();
    report.add_source(name, text);
    sort_diagnostics(&mut report.diagnostics);
    report
}
