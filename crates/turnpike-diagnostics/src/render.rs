//! Renderers: rustc-style text (through annotate-snippets) and JSON.

use annotate_snippets::{Level, Renderer, Snippet};
use serde::Serialize;

use crate::{Diagnostic, Severity, SourceMap};

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    }
}

/// Renders one diagnostic as rustc does, without colour:
///
/// ```text
/// error[TP0101 malformed-xml]: expected `>` after the attributes of `set-header`
///  --> policy.xml:3:9
///   |
/// 3 |   <set-header name="x"
///   |         ^ here
///   |
///   = help: ...
/// ```
pub fn render_human(diag: &Diagnostic, sources: &SourceMap) -> String {
    let id = format!("{} {}", diag.code.id, diag.code.name);
    let lvl = level(diag.severity);
    let mut message = lvl.title(&diag.message).id(&id);

    // Group labels by file, primary file first.
    let mut files: Vec<crate::FileId> = Vec::new();
    let mut ordered: Vec<&crate::Label> = diag.labels.iter().filter(|l| l.primary).collect();
    ordered.extend(diag.labels.iter().filter(|l| !l.primary));
    for l in &ordered {
        if !files.contains(&l.span.file) {
            files.push(l.span.file);
        }
    }
    let mut snippets = Vec::new();
    for file in files {
        let src = sources.get(file);
        let text = src.text();
        let mut snippet = Snippet::source(text)
            .line_start(1)
            .origin(src.name())
            .fold(true);
        for l in ordered.iter().filter(|l| l.span.file == file) {
            let range = clamp(text, l.span.range());
            let annotation = if l.primary {
                lvl.span(range)
            } else {
                Level::Info.span(range)
            };
            snippet = snippet.annotation(annotation.label(&l.message));
        }
        snippets.push(snippet);
    }
    message = message.snippets(snippets);
    let help = diag.help.as_deref();
    if let Some(help) = help {
        message = message.footer(Level::Help.title(help));
    }
    for note in &diag.notes {
        message = message.footer(Level::Note.title(note));
    }
    Renderer::plain().render(message).to_string()
}

/// Keeps a label inside the text and on character boundaries; an empty span at the very end
/// of a file points at the last character instead, so that a caret can be drawn.
fn clamp(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let len = text.len();
    let mut start = range.start.min(len);
    let mut end = range.end.min(len).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start == len && len > 0 {
        start = text[..len].char_indices().next_back().map_or(0, |(i, _)| i);
        end = len;
    }
    start..end
}

/// The JSON shape of one diagnostic (`turnpike lint --format json`).
#[derive(Debug, Serialize)]
pub struct DiagnosticJson {
    /// Stable id, e.g. `TP0101`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `malformed-xml`.
    pub name: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// File name as given.
    pub file: String,
    /// 1-based line of the primary span.
    pub line: usize,
    /// 1-based column (characters) of the primary span.
    pub column: usize,
    /// 1-based line where the primary span ends.
    pub end_line: usize,
    /// 1-based column where the primary span ends.
    pub end_column: usize,
    /// Byte offsets of the primary span.
    pub span: JsonSpan,
    /// Help text, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Notes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Byte offsets in JSON output.
#[derive(Debug, Serialize)]
pub struct JsonSpan {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl DiagnosticJson {
    /// The JSON form of a diagnostic.
    pub fn new(diag: &Diagnostic, sources: &SourceMap) -> Self {
        let span = diag.primary_span().unwrap_or_default();
        let file = sources.get(span.file);
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end);
        DiagnosticJson {
            code: diag.code.id,
            name: diag.code.name,
            severity: diag.severity,
            message: diag.message.clone(),
            file: file.name().to_string(),
            line,
            column,
            end_line,
            end_column,
            span: JsonSpan {
                start: span.start,
                end: span.end,
            },
            help: diag.help.clone(),
            notes: diag.notes.clone(),
        }
    }
}

/// All diagnostics as one pretty-printed JSON array.
pub fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let all: Vec<DiagnosticJson> = diags
        .iter()
        .map(|d| DiagnosticJson::new(d, sources))
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".to_string())
}

/// `N files, M expressions, E errors, W warnings` (always plural, as scripts expect).
pub fn summary_line(files: usize, expressions: usize, errors: usize, warnings: usize) -> String {
    format!("{files} files, {expressions} expressions, {errors} errors, {warnings} warnings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Span, codes};

    #[test]
    fn renders_rustc_style_with_help() {
        let mut map = SourceMap::new();
        let f = map.add("p.xml", "<policies>\n  <inbound x=\"1\">\n</policies>\n");
        let d = Diagnostic::new(&codes::MALFORMED_XML, Span::new(f, 13, 20), "bad thing")
            .with_label("here")
            .with_help("do this");
        let out = render_human(&d, &map);
        assert!(
            out.starts_with("error[TP0101 malformed-xml]: bad thing\n"),
            "{out}"
        );
        assert!(out.contains("--> p.xml:2:3"), "{out}");
        assert!(out.contains("^^^^^^^ here"), "{out}");
        assert!(out.contains("= help: do this"), "{out}");
    }

    #[test]
    fn json_has_positions() {
        let mut map = SourceMap::new();
        let f = map.add("p.xml", "ab\ncdé\nf");
        let d = Diagnostic::new(&codes::UNRESOLVED_NAMED_VALUE, Span::new(f, 8, 9), "m");
        let j = DiagnosticJson::new(&d, &map);
        assert_eq!((j.line, j.column), (3, 1));
        assert_eq!(j.severity, Severity::Warning);
        let d = Diagnostic::new(&codes::UNRESOLVED_NAMED_VALUE, Span::new(f, 5, 7), "m");
        let j = DiagnosticJson::new(&d, &map);
        assert_eq!((j.line, j.column, j.end_column), (2, 3, 4));
    }

    #[test]
    fn empty_span_at_end_of_file_renders() {
        let mut map = SourceMap::new();
        let f = map.add("p.xml", "<policies>");
        let d = Diagnostic::new(&codes::MALFORMED_XML, Span::new(f, 10, 10), "eof");
        let out = render_human(&d, &map);
        assert!(out.contains("p.xml:1:10"), "{out}");
    }

    #[test]
    fn summary_is_always_plural() {
        assert_eq!(
            summary_line(1, 1, 1, 1),
            "1 files, 1 expressions, 1 errors, 1 warnings"
        );
    }
}
