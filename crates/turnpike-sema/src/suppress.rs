//! Inline suppression: `<!-- turnpike-ignore: name[, name...] -->` on the line before a
//! diagnostic's position silences those codes there. Names may be code names or ids.

use turnpike_diagnostics::{Diagnostic, FileId, SourceFile, Span, codes};
use turnpike_syntax::tree::{Document, Element, Node};

/// One suppression comment.
#[derive(Debug)]
struct Suppression {
    /// The line (1-based) the comment ends on; it covers the next line.
    line: usize,
    /// Code ids it names.
    ids: Vec<&'static str>,
}

const MARKER: &str = "turnpike-ignore:";

/// The XML comments of a document, in order (comments inside CDATA, strings or attribute
/// values are not comments and are not found).
pub fn comments(doc: &Document) -> Vec<Span> {
    fn walk(el: &Element, out: &mut Vec<Span>) {
        for n in &el.children {
            match n {
                Node::Comment(s) => out.push(*s),
                Node::Element(e) => walk(e, out),
                Node::Text(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Some(r) = &doc.root {
        walk(r, &mut out);
    }
    out
}

/// Removes the diagnostics of `file` that a suppression comment (one of `comments`, spans of
/// whole `<!-- ... -->`) covers, and reports names in such comments that are no code.
pub fn apply(file: FileId, source: &SourceFile, comments: &[Span], diags: &mut Vec<Diagnostic>) {
    let text = source.text();
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for c in comments {
        let Some(whole) = text.get(c.range()) else {
            continue;
        };
        let (open, close) = (c.start as usize, c.end as usize);
        let body_end = close - if whole.ends_with("-->") { 3 } else { 0 };
        let Some(body) = text.get(open + 4.min(whole.len())..body_end.max(open)) else {
            continue;
        };
        let Some(at) = body.find(MARKER) else {
            continue;
        };
        let list_start = open + 4 + at + MARKER.len();
        let mut ids = Vec::new();
        let mut offset = list_start;
        for part in text[list_start..body_end].split(',') {
            let name = part.trim();
            let lead = part.len() - part.trim_start().len();
            if !name.is_empty() {
                match codes::lookup(name) {
                    Some(code) => ids.push(code.id),
                    None => unknown.push((offset + lead, name.to_string())),
                }
            }
            offset += part.len() + 1;
        }
        let (line, _) = source.line_col(u32::try_from(body_end).unwrap_or(u32::MAX));
        found.push(Suppression { line, ids });
    }
    if !found.is_empty() {
        diags.retain(|d| {
            let Some(span) = d.primary_span().filter(|s| s.file == file) else {
                return true;
            };
            let (line, _) = source.line_col(span.start);
            !found
                .iter()
                .any(|s| s.line + 1 == line && s.ids.contains(&d.code.id))
        });
    }
    for (at, name) in unknown {
        diags.push(
            Diagnostic::new(
                &codes::UNKNOWN_SUPPRESSION,
                Span::new(file, at, at + name.len()),
                format!("`{name}` is not a diagnostic code"),
            )
            .with_help(
                "name codes as `unresolved-named-value` or `TP0301`; spec/07-errors.md lists them",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turnpike_diagnostics::SourceMap;

    #[test]
    fn suppresses_the_next_line_only() {
        let text = "<a>\n<!-- turnpike-ignore: unresolved-named-value, TP0101 -->\n{{x}}\n{{y}}\n<!-- turnpike-ignore: bogus -->\n<b>@(\"<!-- turnpike-ignore: nope -->\")</b>\n</a>";
        let mut map = SourceMap::new();
        let f = map.add("t.xml", text);
        let (doc, _) = turnpike_syntax::parse_document(f, text);
        let at = |s: &str| text.find(s).unwrap_or(0);
        let mut diags = vec![
            Diagnostic::new(
                &codes::UNRESOLVED_NAMED_VALUE,
                Span::new(f, at("{{x}}"), at("{{x}}") + 5),
                "x",
            ),
            Diagnostic::new(
                &codes::UNRESOLVED_NAMED_VALUE,
                Span::new(f, at("{{y}}"), at("{{y}}") + 5),
                "y",
            ),
        ];
        apply(f, map.get(f), &comments(&doc), &mut diags);
        let left: Vec<_> = diags
            .iter()
            .map(|d| (d.code.name, d.message.as_str()))
            .collect();
        assert_eq!(
            left,
            [
                ("unresolved-named-value", "y"),
                ("unknown-suppression", "`bogus` is not a diagnostic code")
            ]
        );
    }
}
