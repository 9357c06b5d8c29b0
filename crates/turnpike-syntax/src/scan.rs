//! The tolerant pre-pass over a policy file.
//!
//! APIM accepts documents that are not well-formed XML: expressions hold raw `"`, `<`, `&&`
//! and newlines. This scanner walks the raw text with logos lexers that track the XML state
//! (content, tag, attribute value in either quote, comment, CDATA, processing instruction,
//! declaration) and, where a value holds `@(` or `@{`, finds the expression's end with a C#
//! lexer ([`csharp`]). Every expression is then masked with filler of the same byte length, so
//! the XML reader sees a well-formed document whose offsets are the original file's.

pub mod csharp;

use logos::Logos;
use turnpike_diagnostics::{Diagnostic, FileId, Span, codes};

use crate::offsets::{OffsetMap, decode_entities};
use csharp::{ExprExtent, LiteralKind, ScanErrorKind, expression_extent};

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    #[token("<!--")]
    CommentOpen,
    #[token("<![CDATA[")]
    CdataOpen,
    #[token("<?")]
    PiOpen,
    #[token("<!")]
    DeclOpen,
    #[token("<")]
    TagOpen,
    #[token("@(")]
    #[token("@{")]
    ExprOpen,
    #[regex(r"\{\{[A-Za-z0-9._-]+\}\}")]
    NamedValue,
    #[regex(r"[^<@{]+")]
    Text,
    #[token("@")]
    #[token("{")]
    Punct,
}

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    #[regex(r"[ \t\r\n]+")]
    Space,
    #[token("/>")]
    #[token(">")]
    End,
    #[token("\"")]
    DoubleQuote,
    #[token("'")]
    SingleQuote,
    #[regex(r#"[^ \t\r\n/>"']+"#)]
    Word,
    #[token("/")]
    Slash,
}

/// Inside an attribute value; which quote closes it is decided by the scanner.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
enum Quoted {
    #[token("\"")]
    #[token("'")]
    Quote,
    #[token("@(")]
    #[token("@{")]
    ExprOpen,
    #[regex(r"\{\{[A-Za-z0-9._-]+\}\}")]
    NamedValue,
    #[regex(r#"[^"'@{]+"#)]
    Text,
    #[token("@")]
    #[token("{")]
    Punct,
}

/// One policy expression found in the raw text.
#[derive(Clone, Debug)]
pub struct FoundExpr {
    /// Offset of `@` in the file.
    pub start: usize,
    /// Offset just past the closing bracket in the file.
    pub end: usize,
    /// The expression as the parser sees it, `@(`…`)` or `@{`…`}` included, with XML
    /// entities decoded (CDATA content is taken as is).
    pub code: String,
    /// Maps offsets in `code` to file offsets.
    pub map: OffsetMap,
    /// Nesting figures from the C# lexer.
    pub extent: ExprExtent,
    /// Whether the expression stands inside a CDATA section.
    pub in_cdata: bool,
}

/// A `{{name}}` reference found outside XML comments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedValueRef {
    /// The whole `{{name}}`.
    pub span: Span,
    /// The name between the braces.
    pub name: String,
    /// Where it is in the scanned text (which differs from the file once named values are
    /// substituted).
    pub(crate) text_range: (usize, usize),
}

/// The result of the pre-pass.
#[derive(Debug)]
pub struct Scan {
    /// The file with every expression replaced by `_` filler of the same byte length.
    pub masked: String,
    /// Expressions in file order.
    pub expressions: Vec<FoundExpr>,
    /// Named-value references in file order.
    pub named_values: Vec<NamedValueRef>,
    /// Problems found; when one is fatal, `masked` is not worth reading as XML.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the XML reader should be skipped (an expression could not be delimited).
    pub fatal: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Content,
    Tag,
    Value(u8),
}

struct Scanner<'a> {
    file: FileId,
    src: &'a str,
    /// Scanned-text offsets to file offsets, when the text is not the file's (named values
    /// substituted).
    base: Option<&'a OffsetMap>,
    decoded: String,
    map: OffsetMap,
    masked: Vec<u8>,
    expressions: Vec<FoundExpr>,
    named_values: Vec<NamedValueRef>,
    diagnostics: Vec<Diagnostic>,
    fatal: bool,
}

/// Runs the pre-pass over the text of `file`.
pub fn scan(file: FileId, src: &str) -> Scan {
    scan_mapped(file, src, None)
}

/// Runs the pre-pass over `src`, a text derived from `file`; `base` maps its offsets to the
/// file's, and every span and expression map is given in file offsets.
pub fn scan_mapped(file: FileId, src: &str, base: Option<&OffsetMap>) -> Scan {
    let (decoded, map) = decode_entities(src, 0);
    let mut s = Scanner {
        file,
        src,
        base,
        decoded,
        map,
        masked: src.as_bytes().to_vec(),
        expressions: Vec::new(),
        named_values: Vec::new(),
        diagnostics: Vec::new(),
        fatal: false,
    };
    // A byte-order mark is not XML: mask it as spaces.
    if src.starts_with('\u{FEFF}') {
        s.masked[..3].copy_from_slice(b"   ");
    }
    s.run();
    let masked = String::from_utf8(s.masked).unwrap_or_default();
    Scan {
        masked,
        expressions: s.expressions,
        named_values: s.named_values,
        diagnostics: s.diagnostics,
        fatal: s.fatal,
    }
}

impl Scanner<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        match self.base {
            Some(b) => Span::new(self.file, b.to_raw(start), b.to_raw(end)),
            None => Span::new(self.file, start, end),
        }
    }

    /// An expression's map (code offsets → scanned-text offsets) made to reach file offsets.
    fn to_file(&self, map: OffsetMap) -> OffsetMap {
        match self.base {
            Some(b) => map.then(b),
            None => map,
        }
    }

    fn run(&mut self) {
        let mut pos = 0;
        let mut mode = Mode::Content;
        while pos < self.src.len() && !self.fatal {
            let (next, next_mode) = match mode {
                Mode::Content => self.content(pos),
                Mode::Tag => self.tag(pos),
                Mode::Value(q) => self.value(pos, q),
            };
            if next <= pos && next_mode == mode {
                break;
            }
            pos = next;
            mode = next_mode;
        }
    }

    /// Skips to just past `terminator`, or to the end of the file.
    fn skip_past(&self, pos: usize, terminator: &str) -> usize {
        self.src[pos..]
            .find(terminator)
            .map_or(self.src.len(), |i| pos + i + terminator.len())
    }

    fn content(&mut self, pos: usize) -> (usize, Mode) {
        let mut lex = Content::lexer(&self.src[pos..]);
        let mut has_text = false;
        while let Some(tok) = lex.next() {
            let span = lex.span();
            let (start, end) = (pos + span.start, pos + span.end);
            match tok.unwrap_or(Content::Punct) {
                Content::CommentOpen => {
                    let next = self.skip_past(end, "-->");
                    return (next, Mode::Content);
                }
                Content::CdataOpen => {
                    let close = self.src[end..]
                        .find("]]>")
                        .map_or(self.src.len(), |i| end + i);
                    self.cdata(end, close);
                    return ((close + 3).min(self.src.len()), Mode::Content);
                }
                Content::PiOpen => return (self.skip_past(end, "?>"), Mode::Content),
                Content::DeclOpen => return (self.skip_past(end, ">"), Mode::Content),
                Content::TagOpen => return (end, Mode::Tag),
                Content::ExprOpen => {
                    if let Some(after) = self.expression(start, !has_text, None) {
                        lex.bump(after - end);
                    }
                    has_text = true;
                }
                Content::NamedValue => {
                    self.named_value(start, end);
                    has_text = true;
                }
                Content::Text => {
                    has_text |= !lex.slice().trim().is_empty();
                }
                _ => has_text = true,
            }
        }
        (self.src.len(), Mode::Content)
    }

    fn tag(&mut self, pos: usize) -> (usize, Mode) {
        let mut lex = Tag::lexer(&self.src[pos..]);
        while let Some(tok) = lex.next() {
            let end = pos + lex.span().end;
            match tok.unwrap_or(Tag::Word) {
                Tag::End => return (end, Mode::Content),
                Tag::DoubleQuote => return (end, Mode::Value(b'"')),
                Tag::SingleQuote => return (end, Mode::Value(b'\'')),
                _ => {}
            }
        }
        (self.src.len(), Mode::Tag)
    }

    fn value(&mut self, pos: usize, quote: u8) -> (usize, Mode) {
        let mut lex = Quoted::lexer(&self.src[pos..]);
        let mut has_text = false;
        while let Some(tok) = lex.next() {
            let span = lex.span();
            let (start, end) = (pos + span.start, pos + span.end);
            match tok.unwrap_or(Quoted::Punct) {
                Quoted::Quote if lex.slice().as_bytes()[0] == quote => return (end, Mode::Tag),
                Quoted::ExprOpen => {
                    if let Some(after) = self.expression(start, !has_text, Some(quote)) {
                        lex.bump(after - end);
                    }
                    has_text = true;
                }
                Quoted::NamedValue => {
                    self.named_value(start, end);
                    has_text = true;
                }
                Quoted::Text => has_text |= !lex.slice().trim().is_empty(),
                Quoted::Quote | Quoted::Punct => has_text = true,
            }
        }
        (self.src.len(), Mode::Value(quote))
    }

    fn named_value(&mut self, start: usize, end: usize) {
        self.named_values.push(NamedValueRef {
            span: self.span(start, end),
            name: self.src[start + 2..end - 2].to_string(),
            text_range: (start, end),
        });
    }

    /// Delimits the expression whose `@` is at file offset `start`; returns the file offset
    /// just past it. An expression that does not start its value is delimited only if its end
    /// can be found; otherwise it is left as literal text. `quote` is the attribute's quote,
    /// `None` in element text.
    fn expression(&mut self, start: usize, starts_value: bool, quote: Option<u8>) -> Option<usize> {
        // `@{{name}}`: an `@` before a named value, not a block. Record the named value and go
        // on after it.
        if let Some(len) = named_value_at(&self.src[start + 1..]) {
            self.named_value(start + 1, start + 1 + len);
            return Some(start + 1 + len);
        }
        let dstart = self.map.to_decoded(start);
        // An expression inside literal text is one only if it ends within its value: before the
        // attribute's closing quote or the element's end tag (APIM reads it as text otherwise).
        let limit = if starts_value {
            self.decoded.len()
        } else {
            self.natural_end(start, quote)
                .map_or(self.decoded.len(), |n| self.map.to_decoded(n))
        };
        match expression_extent(&self.decoded[..limit], dstart) {
            Ok(extent) => {
                let end = self.map.to_raw(extent.end);
                let code = self.decoded[dstart..extent.end].to_string();
                let map = self.map.slice(dstart, extent.end);
                self.record(start, end, code, map, extent, false);
                Some(end)
            }
            Err(err) => {
                if starts_value {
                    let at = self.map.to_raw(err.at);
                    let kind = err.kind.map_offsets(|o| self.map.to_raw(o));
                    let natural = self.natural_end(start, quote);
                    let overran = matches!(
                        kind,
                        ScanErrorKind::Unterminated | ScanErrorKind::UnterminatedLiteral(_)
                    ) && natural.is_some_and(|n| at >= n);
                    match natural {
                        Some(n) if overran => self.overran(start, n, quote.is_some()),
                        _ => self.scan_error(start, at, kind),
                    }
                    self.fatal = true;
                }
                None
            }
        }
    }

    /// Where the value holding an expression would end if the expression were closed: the
    /// attribute's closing quote (one followed by `>`, `/>` or another attribute), or the
    /// next end tag in element text.
    fn natural_end(&self, start: usize, quote: Option<u8>) -> Option<usize> {
        let rest = &self.src[start + 2..];
        let Some(q) = quote else {
            return rest.find("</").map(|i| start + 2 + i);
        };
        let bytes = rest.as_bytes();
        (0..bytes.len()).find_map(|i| {
            if bytes[i] != q {
                return None;
            }
            let after = rest[i + 1..].trim_start();
            let tagish = after.starts_with("/>")
                || after.starts_with('>')
                || after.split_once('=').is_some_and(|(name, _)| {
                    let name = name.trim_end();
                    !name.is_empty()
                        && name.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
                        })
                });
            tagish.then_some(start + 2 + i)
        })
    }

    fn overran(&mut self, start: usize, natural: usize, in_attribute: bool) {
        let open = &self.src[start..start + 2];
        let close = if open == "@{" { '}' } else { ')' };
        let (label, help) = if in_attribute {
            (
                "the attribute value ends here",
                format!("add the missing `{close}` before the end of the attribute value"),
            )
        } else {
            (
                "the element's text ends here",
                format!("add the missing `{close}` before the end tag"),
            )
        };
        let end = (natural + 1).min(self.src.len());
        self.diagnostics.push(
            Diagnostic::new(
                &codes::UNTERMINATED_EXPRESSION,
                self.span(start, start + 2),
                format!("policy expression `{open}` is never closed"),
            )
            .with_label("opened here")
            .with_secondary(self.span(natural, end), label)
            .with_help(help),
        );
    }

    fn cdata(&mut self, start: usize, end: usize) {
        let content = &self.src[start..end];
        for (s, e) in find_named_values(content) {
            self.named_value(start + s, start + e);
        }
        let trimmed = content.trim_start();
        if !(trimmed.starts_with("@(") || trimmed.starts_with("@{")) {
            return;
        }
        let at = start + (content.len() - trimmed.len());
        let local = &self.src[at..end];
        match expression_extent(local, 0) {
            Ok(extent) => {
                let code = local[..extent.end].to_string();
                let map = self.to_file(OffsetMap::identity(at, extent.end));
                // Named values inside were already recorded above.
                self.expressions.push(FoundExpr {
                    start: at,
                    end: at + extent.end,
                    code,
                    map,
                    extent,
                    in_cdata: true,
                });
            }
            Err(err) => {
                let kind = err.kind.map_offsets(|o| at + o);
                self.scan_error(at, at + err.at, kind);
            }
        }
    }

    fn record(
        &mut self,
        start: usize,
        end: usize,
        code: String,
        map: OffsetMap,
        extent: ExprExtent,
        in_cdata: bool,
    ) {
        for (s, e) in find_named_values(&code) {
            let (rs, re) = (map.to_raw(s), map.to_raw(e));
            self.named_value(rs, re);
        }
        let map = self.to_file(map);
        for b in &mut self.masked[start..end] {
            *b = b'_';
        }
        self.expressions.push(FoundExpr {
            start,
            end,
            code,
            map,
            extent,
            in_cdata,
        });
    }

    fn scan_error(&mut self, start: usize, at: usize, kind: ScanErrorKind) {
        let opener = self.span(start, start + 2);
        // Label the expression's start only when it is on another line than the problem.
        let other_line = self.src[start..at.max(start)].contains('\n');
        let diag = match kind {
            ScanErrorKind::Unterminated => {
                let close = if self.src[start..].starts_with("@{") {
                    '}'
                } else {
                    ')'
                };
                Diagnostic::new(
                    &codes::UNTERMINATED_EXPRESSION,
                    opener,
                    format!(
                        "policy expression `{}` is never closed",
                        &self.src[start..start + 2]
                    ),
                )
                .with_label("opened here")
                .with_help(format!(
                    "add the matching `{close}`; brackets inside strings and comments do not count"
                ))
            }
            ScanErrorKind::UnterminatedLiteral(kind) => {
                let (what, help) = match kind {
                    LiteralKind::String => (
                        "string literal",
                        "close the string with `\"`; a regular string cannot span lines, use a verbatim string `@\"...\"` for that",
                    ),
                    LiteralKind::Char => (
                        "character literal",
                        "close the character literal with `'`, or use a string `\"...\"`",
                    ),
                    LiteralKind::Comment => ("comment", "close the comment with `*/`"),
                };
                let at_end = (at + 1).min(self.src.len());
                let d = Diagnostic::new(
                    &codes::UNTERMINATED_LITERAL,
                    self.span(at, at_end),
                    format!("{what} in policy expression is never closed"),
                )
                .with_label(format!("{what} starts here"))
                .with_help(help);
                if other_line {
                    d.with_secondary(opener, "in this expression")
                } else {
                    d
                }
            }
            ScanErrorKind::TooDeep => Diagnostic::new(
                &codes::EXPRESSION_TOO_DEEP,
                self.span(at, (at + 2).min(self.src.len())),
                "interpolated strings nest too deeply",
            )
            .with_help("build the text in steps with local variables in a `@{ ... }` block"),
            ScanErrorKind::Mismatched {
                expected,
                found,
                open_at,
            } => {
                let open_char = self.src[open_at..].chars().next().unwrap_or('(');
                Diagnostic::new(
                    &codes::MISMATCHED_BRACKET,
                    self.span(at, at + 1),
                    format!("found `{found}` where `{expected}` was expected"),
                )
                .with_label(format!("expected `{expected}`"))
                .with_secondary(
                    self.span(open_at, open_at + open_char.len_utf8()),
                    format!("this `{open_char}` is not closed"),
                )
                .with_help("check that every `(`, `[` and `{` in the expression is closed in order")
            }
        };
        self.diagnostics.push(diag);
    }
}

/// The length of the `{{name}}` that `s` starts with, if it does.
fn named_value_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !s.starts_with("{{") {
        return None;
    }
    let mut j = 2;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'.' | b'_' | b'-')) {
        j += 1;
    }
    (j > 2 && s[j..].starts_with("}}")).then_some(j + 2)
}

/// Finds every `{{name}}` (name: letters, digits, `.`, `_`, `-`) in `s`.
pub fn find_named_values(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= b.len() {
        if b[i] == b'{' && b.get(i + 1) == Some(&b'{') {
            let mut j = i + 2;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'.' | b'_' | b'-'))
            {
                j += 1;
            }
            if j > i + 2 && b.get(j) == Some(&b'}') && b.get(j + 1) == Some(&b'}') {
                out.push((i, j + 2));
                i = j + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Scan {
        scan(FileId::default(), src)
    }

    #[test]
    fn masks_expressions_keeping_length() {
        let src = r#"<a v="@(x["k"] < 2 && y)">@{ return "<b>"; }</a>"#;
        let s = run(src);
        assert_eq!(s.masked.len(), src.len());
        assert_eq!(s.expressions.len(), 2);
        assert_eq!(
            &src[s.expressions[0].start..s.expressions[0].end],
            r#"@(x["k"] < 2 && y)"#
        );
        assert!(s.masked.contains(r#"<a v="__"#));
        assert!(s.diagnostics.is_empty());
    }

    #[test]
    fn decodes_entities_inside_expressions() {
        let src = r#"<a v="@(x == &quot;)&quot;)"/>"#;
        let s = run(src);
        assert_eq!(s.expressions.len(), 1);
        assert_eq!(s.expressions[0].code, r#"@(x == ")")"#);
        assert_eq!(s.expressions[0].end, src.len() - 3);
    }

    #[test]
    fn skips_comments_and_finds_cdata_expressions() {
        let src = "<a><!-- @( {{x}} --><![CDATA[ @{ return \"]\"; } ]]>{{y}}</a>";
        let s = run(src);
        assert_eq!(s.expressions.len(), 1);
        assert!(s.expressions[0].in_cdata);
        let names: Vec<_> = s.named_values.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["y"]);
    }

    #[test]
    fn named_values_in_code_and_strings() {
        let s = run(r#"<a v="@("{{key}}" + {{other-1}})" w="x{{lit.v}}"/>"#);
        let names: Vec<_> = s.named_values.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["key", "other-1", "lit.v"]);
    }

    #[test]
    fn unterminated_expression_is_reported() {
        let s = run("<a>@(x + (y)</a>");
        assert!(s.fatal);
        assert_eq!(s.diagnostics[0].code.name, "unterminated-expression");
        let s = run(r#"<a v="@(x + (y)"/>"#);
        assert!(s.fatal);
        assert_eq!(s.diagnostics[0].code.name, "unterminated-expression");
        let s = run(r#"<a v="@(x + "abc)"/>"#);
        assert_eq!(s.diagnostics[0].code.name, "unterminated-expression");
        let s = run("<a>@(x + (y)</a><!-- don't -->");
        assert_eq!(s.diagnostics[0].code.name, "unterminated-expression");
        let s = run("<a>@(\"abc)</a>");
        assert_eq!(s.diagnostics[0].code.name, "unterminated-literal");
    }

    #[test]
    fn mid_value_at_sign_is_not_an_error() {
        let s = run(r#"<a v="mail@(home"/>"#);
        assert!(!s.fatal);
        assert!(s.diagnostics.is_empty());
    }

    #[test]
    fn mid_value_expressions_stay_within_their_value() {
        let s = run(r#"<a v="^[a-z]+@(gmail" /><b v="z)" />"#);
        assert!(s.expressions.is_empty());
        assert!(!s.masked.contains("__"));
        let s = run("<v>a@(b</v><w>c)</w>");
        assert!(s.expressions.is_empty());
        let s = run("<v>noreply@{{mail-domain}}</v>");
        assert!(s.expressions.is_empty());
        assert_eq!(s.named_values.len(), 1);
    }

    #[test]
    fn single_quoted_values_with_char_literals() {
        let s = run("<a v='@(x.Split('.')[0])'/>");
        assert_eq!(s.expressions.len(), 1);
        assert_eq!(s.expressions[0].code, "@(x.Split('.')[0])");
    }

    #[test]
    fn finds_named_value_patterns() {
        assert_eq!(
            find_named_values("a{{b}}c{{}}{{d e}}{{f_g.h-1}}"),
            [(1, 6), (18, 29)]
        );
    }
}
