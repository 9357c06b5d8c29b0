//! Reads the masked document with quick-xml and builds the element tree, classifying each
//! value as literal, expression or mixed and parsing expressions.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;
use turnpike_diagnostics::{Diagnostic, FileId, Span, codes};

use crate::offsets::OffsetMap;
use crate::parser::parse_found;
use crate::scan::{FoundExpr, NamedValueRef, Scan, scan_mapped};
use crate::tree::{Attribute, Document, Element, ExprForm, Expression, Node, Value, ValueKind};

/// Reads one policy document. Never panics; problems come back as diagnostics, and as much of
/// the tree as could be read is returned.
pub fn parse_document(file: FileId, src: &str) -> (Document, Vec<Diagnostic>) {
    parse_document_mapped(file, src, None)
}

/// Reads a policy document from `src`, a text derived from the file (named values
/// substituted); `base` maps its offsets to the file's, so every span points into the file.
pub fn parse_document_mapped(
    file: FileId,
    src: &str,
    base: Option<&OffsetMap>,
) -> (Document, Vec<Diagnostic>) {
    let scanned = scan_mapped(file, src, base);
    let mut b = Builder {
        file,
        src,
        base,
        by_start: scanned
            .expressions
            .iter()
            .enumerate()
            .map(|(i, e)| (e.start, i))
            .collect(),
        scan: &scanned,
        diags: Vec::new(),
    };
    b.diags.extend(scanned.diagnostics.iter().cloned());
    let root = if scanned.fatal { None } else { b.read() };
    let mut diags = b.diags;
    // `{{...}}` in a Liquid template body is Liquid's output tag, not a named value.
    let mut liquid = Vec::new();
    if let Some(r) = &root {
        liquid_bodies(r, &mut liquid);
    }
    for nv in &scanned.named_values {
        if !liquid
            .iter()
            .any(|l: &Span| l.start <= nv.span.start && nv.span.end <= l.end)
        {
            diags.push(unresolved(nv));
        }
    }
    (Document { file, root }, diags)
}

/// Spans of the text of every `set-body template="liquid"`.
fn liquid_bodies(el: &Element, out: &mut Vec<Span>) {
    let is_liquid = el.name == "set-body"
        && el
            .attr("template")
            .is_some_and(|t| t.value.text.trim().eq_ignore_ascii_case("liquid"));
    if is_liquid {
        // The whole element: Liquid templates for XML bodies nest markup.
        out.push(el.span);
        return;
    }
    for child in el.elements() {
        liquid_bodies(child, out);
    }
}

fn unresolved(nv: &NamedValueRef) -> Diagnostic {
    Diagnostic::new(
        &codes::UNRESOLVED_NAMED_VALUE,
        nv.span,
        format!("named value `{}` has no known value", nv.name),
    )
    .with_label("kept as a placeholder")
    .with_help(
        "lint the whole artifact folder, which defines named values, or give the value in an overrides file",
    )
}

struct Builder<'a> {
    file: FileId,
    src: &'a str,
    base: Option<&'a OffsetMap>,
    scan: &'a Scan,
    by_start: HashMap<usize, usize>,
    diags: Vec<Diagnostic>,
}

fn pos(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Builder<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        match self.base {
            Some(b) => Span::new(self.file, b.to_raw(start), b.to_raw(end)),
            None => Span::new(self.file, start, end),
        }
    }

    fn xml_error(&mut self, start: usize, end: usize, message: String, help: Option<&str>) {
        let mut d = Diagnostic::new(&codes::MALFORMED_XML, self.span(start, end), message);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.diags.push(d);
    }

    fn read(&mut self) -> Option<Element> {
        let mut reader = Reader::from_str(&self.scan.masked);
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.check_comments = false;
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let before = pos(reader.buffer_position());
            let event = reader.read_event();
            let after = pos(reader.buffer_position());
            match event {
                Ok(Event::Start(_)) => match self.start_tag(before, after) {
                    Some(el) => stack.push(el),
                    None => return None,
                },
                Ok(Event::Empty(_)) => match self.start_tag(before, after) {
                    Some(el) => self.attach(&mut stack, &mut root, el),
                    None => return None,
                },
                Ok(Event::End(_)) => {
                    if let Some(mut el) = stack.pop() {
                        el.span.end = self.span(after, after).end;
                        self.attach(&mut stack, &mut root, el);
                    }
                }
                Ok(Event::Text(_)) => {
                    let raw = &self.scan.masked[before..after];
                    if raw.trim().is_empty() {
                        continue;
                    }
                    match stack.last_mut() {
                        Some(parent) => {
                            let v = self.value(before, after, false);
                            parent.children.push(Node::Text(v));
                        }
                        None => {
                            let lead = raw.len() - raw.trim_start().len();
                            self.xml_error(
                                before + lead,
                                before + raw.trim_end().len(),
                                "text outside the root element".to_string(),
                                Some("a policy document holds one root element, such as `<policies>`, and nothing else"),
                            );
                        }
                    }
                }
                Ok(Event::CData(_)) => {
                    let (s, e) = (before + 9, after.saturating_sub(3).max(before + 9));
                    match stack.last_mut() {
                        Some(parent) => {
                            if !self.src[s..e].trim().is_empty() {
                                let v = self.value(s, e, true);
                                parent.children.push(Node::Text(v));
                            }
                        }
                        None => self.xml_error(
                            before,
                            after,
                            "CDATA section outside the root element".to_string(),
                            None,
                        ),
                    }
                }
                Ok(Event::Comment(_)) => {
                    if let Some(parent) = stack.last_mut() {
                        parent
                            .children
                            .push(Node::Comment(self.span(before, after)));
                    }
                }
                Ok(Event::Decl(_) | Event::PI(_) | Event::DocType(_)) => {}
                Ok(Event::Eof) => break,
                Err(err) => {
                    let at = pos(reader.error_position());
                    self.report_reader_error(&err, at, &stack);
                    return None;
                }
            }
        }
        if let Some(open) = stack.last() {
            let name_span = open.name_span;
            self.diags.push(
                Diagnostic::new(
                    &codes::MALFORMED_XML,
                    name_span,
                    format!("element `{}` is never closed", open.name),
                )
                .with_label("opened here")
                .with_help(format!("add `</{}>` or close the tag with `/>`", open.name)),
            );
            return None;
        }
        if root.is_none() {
            let end = self.src.len();
            self.xml_error(
                0,
                end.min(1),
                "the document has no root element".to_string(),
                Some("a policy document is `<policies>` with its sections, or a `<fragment>`"),
            );
        }
        root
    }

    fn attach(&mut self, stack: &mut [Element], root: &mut Option<Element>, el: Element) {
        match stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(el)),
            None if root.is_none() => *root = Some(el),
            None => {
                let (s, e) = (el.name_span.start as usize, el.name_span.end as usize);
                self.xml_error(
                    s,
                    e,
                    format!("second root element `{}`", el.name),
                    Some("a policy document holds exactly one root element"),
                );
            }
        }
    }

    fn report_reader_error(&mut self, err: &quick_xml::Error, at: usize, stack: &[Element]) {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        let at = at.min(self.src.len());
        let end = (at + 1).min(self.src.len()).max(at);
        let (message, help): (String, Option<&str>) = match err {
            quick_xml::Error::Syntax(s) => match s {
                SyntaxError::UnclosedTag => (
                    "tag is not closed: `>` not found before the end of the file".into(),
                    Some(
                        "a `\"` inside an attribute value ends the value unless the value is a policy expression `@(...)`; write `&quot;` instead",
                    ),
                ),
                SyntaxError::UnclosedComment => (
                    "comment is never closed".into(),
                    Some("close it with `-->`"),
                ),
                SyntaxError::UnclosedCData => (
                    "CDATA section is never closed".into(),
                    Some("close it with `]]>`"),
                ),
                SyntaxError::UnclosedPIOrXmlDecl => (
                    "processing instruction is never closed".into(),
                    Some("close it with `?>`"),
                ),
                SyntaxError::UnclosedDoctype => {
                    ("document type declaration is never closed".into(), None)
                }
                SyntaxError::InvalidBangMarkup => (
                    "unknown markup after `<!`".into(),
                    Some("comments are written `<!-- ... -->`"),
                ),
            },
            quick_xml::Error::IllFormed(i) => match i {
                IllFormedError::MismatchedEndTag { expected, found } if expected.is_empty() => (
                    format!("end tag `</{found}>` has no open element"),
                    Some("remove it, or add the start tag it closes"),
                ),
                IllFormedError::MismatchedEndTag { expected, found } => {
                    let open = stack.last().map(|e| e.name_span);
                    let mut d = Diagnostic::new(
                        &codes::MALFORMED_XML,
                        self.span(at, end),
                        format!(
                            "end tag `</{found}>` does not match the open element `{expected}`"
                        ),
                    )
                    .with_label("this end tag")
                    .with_help(format!("close `{expected}` with `</{expected}>` first"));
                    if let Some(open) = open {
                        d = d.with_secondary(open, "opened here");
                    }
                    self.diags.push(d);
                    return;
                }
                IllFormedError::UnmatchedEndTag(name) => (
                    format!("end tag `</{name}>` has no open element"),
                    Some("remove it, or add the start tag it closes"),
                ),
                IllFormedError::MissingEndTag(name) => {
                    (format!("element `{name}` is never closed"), None)
                }
                other => (format!("{other}"), None),
            },
            other => (format!("{other}").to_lowercase(), None),
        };
        self.xml_error(at, end, message, help);
    }

    /// Builds an element from its start tag `before..after` (`<name attrs>` or `<name/>`).
    /// A malformed attribute is reported and ends the attribute list, but the element is kept
    /// so that its end tag still matches; `None` means the tag is not a tag at all.
    fn start_tag(&mut self, before: usize, after: usize) -> Option<Element> {
        let masked = &self.scan.masked;
        let tag = &masked[before..after];
        let bytes = tag.as_bytes();
        let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let mut i = 1;
        while i < bytes.len() && !is_space(bytes[i]) && bytes[i] != b'>' && bytes[i] != b'/' {
            i += 1;
        }
        let name = tag[1..i].to_string();
        let name_span = self.span(before + 1, before + i);
        if !name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        {
            self.diags.push(
                Diagnostic::new(
                    &codes::MALFORMED_XML,
                    self.span(before, before + 1),
                    "`<` does not start a tag here",
                )
                .with_label("read as the start of a tag")
                .with_help("write `&lt;` for a literal `<` in text, or make the whole value a policy expression `@(...)`"),
            );
            return None;
        }
        let mut attrs: Vec<Attribute> = Vec::new();
        loop {
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' || bytes[i] == b'/' {
                break;
            }
            let name_start = i;
            while i < bytes.len() && !is_space(bytes[i]) && !matches!(bytes[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let attr_name = &tag[name_start..i];
            let attr_span = self.span(before + name_start, before + i);
            let glued = name_start > 0 && matches!(bytes[name_start - 1], b'"' | b'\'');
            if let Some(prev) = attrs
                .last()
                .filter(|_| glued || attr_name.contains(['"', '\'']))
            {
                let d = Diagnostic::new(
                    &codes::MALFORMED_XML,
                    attr_span,
                    format!("the value of attribute `{}` ends before `{attr_name}`", prev.name),
                )
                .with_label("text after the closing quote")
                .with_secondary(prev.value.span, "the value as XML reads it")
                .with_help("a quote inside an attribute value ends it: write `&quot;` (or `&apos;`), or make the whole value a policy expression `@(...)`");
                self.diags.push(d);
                break;
            }
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            if bytes.get(i) != Some(&b'=') {
                self.diags.push(
                    Diagnostic::new(
                        &codes::MALFORMED_XML,
                        attr_span,
                        format!("attribute `{attr_name}` has no value"),
                    )
                    .with_help(format!("write `{attr_name}=\"...\"`")),
                );
                break;
            }
            i += 1;
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            let quote = bytes.get(i).copied();
            if !matches!(quote, Some(b'"' | b'\'')) {
                self.diags.push(
                    Diagnostic::new(
                        &codes::MALFORMED_XML,
                        self.span(
                            before + i,
                            before + i + tag[i..].chars().next().map_or(0, char::len_utf8),
                        ),
                        format!("value of attribute `{attr_name}` is not quoted"),
                    )
                    .with_secondary(attr_span, "this attribute")
                    .with_help("put the value between `\"` or `'`"),
                );
                break;
            }
            let q = quote.unwrap_or(b'"');
            let vstart = i + 1;
            let Some(len) = bytes[vstart..].iter().position(|&b| b == q) else {
                self.xml_error(
                    before + i,
                    before + i + 1,
                    "attribute value is never closed".into(),
                    None,
                );
                break;
            };
            let vend = vstart + len;
            i = vend + 1;
            if let Some(first) = attrs.iter().find(|a| a.name == attr_name) {
                let first = first.name_span;
                self.diags.push(
                    Diagnostic::new(
                        &codes::MALFORMED_XML,
                        attr_span,
                        format!("attribute `{attr_name}` appears twice"),
                    )
                    .with_secondary(first, "first given here")
                    .with_help("keep one of them"),
                );
                continue;
            }
            let value = self.value(before + vstart, before + vend, false);
            attrs.push(Attribute {
                name: attr_name.to_string(),
                name_span: attr_span,
                value,
            });
        }
        Some(Element {
            name,
            name_span,
            span: self.span(before, after),
            attrs,
            children: Vec::new(),
        })
    }

    /// Classifies and decodes the raw value at `start..end` of the file.
    fn value(&mut self, start: usize, end: usize, cdata: bool) -> Value {
        let raw = &self.src[start..end];
        let lead = raw.len() - raw.trim_start().len();
        let (tstart, tend) = (start + lead, start + raw.trim_end().len());
        let named_values: Vec<NamedValueRef> = self
            .scan
            .named_values
            .iter()
            .filter(|n| n.text_range.0 >= start && n.text_range.1 <= end)
            .cloned()
            .collect();
        let inner: Vec<&FoundExpr> = self
            .scan
            .expressions
            .iter()
            .filter(|e| e.start >= start && e.end <= end)
            .collect();
        let whole = self
            .by_start
            .get(&tstart)
            .map(|&i| &self.scan.expressions[i])
            .filter(|e| e.end == tend && e.in_cdata == cdata);
        let span = self.span(start, end);
        if let Some(found) = whole {
            let (body, diags) = parse_found(self.file, found);
            self.diags.extend(diags);
            let form = if found.code.starts_with("@{") {
                ExprForm::Block
            } else {
                ExprForm::Single
            };
            return Value {
                span,
                text: found.code.clone(),
                kind: ValueKind::Expression(Box::new(Expression {
                    span: self.span(found.start, found.end),
                    form,
                    code: found.code.clone(),
                    map: found.map.clone(),
                    body,
                })),
                named_values,
                cdata,
            };
        }
        let text = if cdata {
            raw.to_string()
        } else {
            // Entities are decoded in the literal text; expressions inside a mixed value are
            // kept as written (APIM masks them before reading the XML).
            let mut text = String::with_capacity(raw.len());
            let mut from = start;
            let mut failed = false;
            for e in &inner {
                failed |= !self.unescape_into(from, e.start, &mut text);
                text.push_str(&self.src[e.start..e.end]);
                from = e.end;
            }
            failed |= !self.unescape_into(from, end, &mut text);
            if failed { raw.to_string() } else { text }
        };
        let kind = if let Some(first) = inner.first() {
            self.diags.push(
                Diagnostic::new(
                    &codes::MIXED_EXPRESSION_VALUE,
                    self.span(first.start, first.end),
                    "policy expression is only part of this value, so it is not evaluated",
                )
                .with_secondary(
                    self.span(tstart, tend),
                    "the whole value is taken as literal text",
                )
                .with_help("make the whole value one expression, e.g. `@(\"text\" + ...)`"),
            );
            ValueKind::Mixed
        } else {
            ValueKind::Literal
        };
        Value {
            span,
            text,
            kind,
            named_values,
            cdata,
        }
    }

    /// Appends the entity-decoded text of `start..end`; reports and returns `false` on a bad
    /// entity.
    fn unescape_into(&mut self, start: usize, end: usize, out: &mut String) -> bool {
        let raw = &self.src[start..end];
        match quick_xml::escape::unescape(raw) {
            Ok(t) => {
                out.push_str(&t);
                true
            }
            Err(err) => {
                self.entity_error(start, raw, &err);
                false
            }
        }
    }

    fn entity_error(&mut self, start: usize, raw: &str, err: &quick_xml::escape::EscapeError) {
        use quick_xml::escape::EscapeError;
        let (range, message, help) = match err {
            EscapeError::UnrecognizedEntity(range, name) => (
                range.clone(),
                format!("unknown entity `&{name};`"),
                "XML knows `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and numeric references such as `&#38;`",
            ),
            EscapeError::UnterminatedEntity(range) => (
                range.start + 1..range.start + 2,
                "`&` does not start an entity".to_string(),
                "write `&amp;` for a literal `&`, or make the whole value a policy expression",
            ),
            other => (
                0..raw.len(),
                format!("{other}").to_lowercase(),
                "check the character reference",
            ),
        };
        let s = (start + range.start.saturating_sub(1)).min(start + raw.len());
        let e = (start + range.end).min(start + raw.len()).max(s);
        self.diags
            .push(Diagnostic::new(&codes::MALFORMED_XML, self.span(s, e), message).with_help(help));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_of(src: &str) -> Vec<&'static str> {
        let (_, diags) = parse_document(FileId::default(), src);
        diags.iter().map(|d| d.code.name).collect()
    }

    #[test]
    fn liquid_bodies_hold_no_named_values() {
        let liquid = r#"<policies><inbound><set-body template="liquid">{{body.name}}</set-body></inbound></policies>"#;
        assert!(codes_of(liquid).is_empty());
        let plain = r#"<policies><inbound><set-body>{{body.name}}</set-body></inbound></policies>"#;
        assert_eq!(codes_of(plain), ["unresolved-named-value"]);
    }

    #[test]
    fn mixed_values_keep_expressions_as_written() {
        let src = r#"<a v="x &amp; @(a && b)"/>"#;
        let (doc, diags) = parse_document(FileId::default(), src);
        let names: Vec<_> = diags.iter().map(|d| d.code.name).collect();
        assert_eq!(names, ["mixed-expression-value"]);
        let value = doc
            .root
            .as_ref()
            .and_then(|r| r.attr("v"))
            .map(|a| a.value.text.clone());
        assert_eq!(value.as_deref(), Some("x & @(a && b)"));
    }

    #[test]
    fn spans_of_elements_attributes_and_values() {
        let src = "<policies>\n  <set-header name=\"X\" exists-action='skip'><value>@(1)</value></set-header>\n</policies>";
        let (doc, diags) = parse_document(FileId::default(), src);
        assert!(diags.is_empty());
        let root = doc.root.as_ref().expect("root");
        let header = root.elements().next().expect("set-header");
        assert_eq!(&src[header.name_span.range()], "set-header");
        assert!(
            src[header.span.range()].starts_with("<set-header")
                && src[header.span.range()].ends_with("</set-header>")
        );
        let action = header.attr("exists-action").expect("attr");
        assert_eq!(&src[action.name_span.range()], "exists-action");
        assert_eq!(&src[action.value.span.range()], "skip");
        let value = header
            .elements()
            .next()
            .and_then(|v| v.texts().next())
            .expect("text");
        let expr = value.expression().expect("expression");
        assert_eq!(&src[expr.span.range()], "@(1)");
    }
}
