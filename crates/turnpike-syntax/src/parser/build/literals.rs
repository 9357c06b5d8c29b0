//! Literals and types: decoding, checks, interpolated strings, type references.

use turnpike_diagnostics::{Diagnostic, Span, codes};

use super::{Builder, P, kids};
use crate::ast::*;
use crate::parser::Rule;
use crate::parser::literals::{
    check_integer, check_real, decode_char_escapes, decode_escapes, utf16_to_string,
};

impl Builder<'_> {
    pub(super) fn literal(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let Some(inner) = kids(p).into_iter().next() else {
            return self.dummy(span);
        };
        let raw = inner.as_str();
        let kind = match inner.as_rule() {
            Rule::bool_literal => ExprKind::Literal(Literal::Bool(raw == "true")),
            Rule::null_literal => ExprKind::Literal(Literal::Null),
            Rule::integer_literal => {
                if let Err((msg, help)) = check_integer(raw) {
                    self.error(Diagnostic::new(&codes::INVALID_NUMBER, span, msg).with_help(help));
                }
                ExprKind::Literal(Literal::Integer(raw.to_string()))
            }
            Rule::real_literal => {
                if let Err((msg, help)) = check_real(raw) {
                    self.error(Diagnostic::new(&codes::INVALID_NUMBER, span, msg).with_help(help));
                }
                ExprKind::Literal(Literal::Real(raw.to_string()))
            }
            Rule::string_literal => {
                let body = &raw[1..raw.len() - 1];
                if let Some(at) = first_doubled_quote(body) {
                    let s = self.sub_span(&inner, at + 1, at + 3);
                    self.diags.push(
                        Diagnostic::new(
                            &codes::DOUBLED_QUOTE_IN_STRING,
                            s,
                            "doubled quote inside a regular string",
                        )
                        .with_label("read as one `\"`")
                        .with_help("C# ends the string at the first quote; write `\\\"` for a quote, or use a verbatim string `@\"...\"`"),
                    );
                }
                let value = self.decode(&inner, body, 1);
                ExprKind::Literal(Literal::String {
                    raw: raw.to_string(),
                    value,
                })
            }
            Rule::verbatim_string => ExprKind::Literal(Literal::String {
                raw: raw.to_string(),
                value: raw[2..raw.len() - 1].replace("\"\"", "\""),
            }),
            Rule::char_literal => {
                let body = &raw[1..raw.len() - 1];
                let units = match decode_char_escapes(body, 1) {
                    Ok(u) => u,
                    Err(e) => {
                        let s = self.sub_span(&inner, e.start, e.end);
                        self.error(
                            Diagnostic::new(&codes::INVALID_ESCAPE, s, e.message).with_help(e.help),
                        );
                        vec![0]
                    }
                };
                if units.is_empty() {
                    self.error(
                        Diagnostic::new(&codes::INVALID_CHAR_LITERAL, span, "character literal is empty")
                            .with_help("a `char` holds one UTF-16 code unit, e.g. `' '`; an empty string is `\"\"`"),
                    );
                } else if units.len() > 1 {
                    // C# rejects this; policies in the wild use it as a string.
                    self.diags.push(
                        Diagnostic::new(
                            &codes::MULTI_CHAR_LITERAL,
                            span,
                            format!("character literal holds {} characters", units.len()),
                        )
                        .with_label("read as a string")
                        .with_help(format!(
                            "write the string with double quotes: `\"{}\"`; APIM's C# compiler rejects this literal",
                            body.replace('"', "\\\"")
                        )),
                    );
                    return Expr {
                        kind: ExprKind::Literal(Literal::String {
                            raw: raw.to_string(),
                            value: utf16_to_string(&units),
                        }),
                        span,
                    };
                }
                ExprKind::Literal(Literal::Char {
                    raw: raw.to_string(),
                    value: units.first().copied().unwrap_or(0),
                })
            }
            Rule::interpolated_string | Rule::interpolated_verbatim => {
                let verbatim = inner.as_rule() == Rule::interpolated_verbatim;
                let prefix = if verbatim { &raw[..3] } else { &raw[..2] }.to_string();
                let mut parts = Vec::new();
                for part in kids(inner) {
                    match part.as_rule() {
                        Rule::interp_text => {
                            // Escapes first (they may write braces), then doubled braces.
                            let raw = part.as_str();
                            let value = self
                                .decode(&part, raw, 0)
                                .replace("{{", "{")
                                .replace("}}", "}");
                            parts.push(InterpPart::Text {
                                raw: raw.to_string(),
                                value,
                            });
                        }
                        Rule::interp_verbatim_text => {
                            let raw = part.as_str();
                            let value = raw
                                .replace("\"\"", "\"")
                                .replace("{{", "{")
                                .replace("}}", "}");
                            parts.push(InterpPart::Text {
                                raw: raw.to_string(),
                                value,
                            });
                        }
                        _ => parts.push(self.hole(part)),
                    }
                }
                ExprKind::Interpolated {
                    verbatim,
                    prefix,
                    parts,
                }
            }
            _ => return self.dummy(span),
        };
        Expr { kind, span }
    }

    /// Decodes a regular string body at `offset` within the pair's text, reporting bad escapes.
    pub(super) fn decode(&mut self, p: &P<'_>, body: &str, offset: usize) -> String {
        match decode_escapes(body, offset) {
            Ok(units) => utf16_to_string(&units),
            Err(e) => {
                let s = self.sub_span(p, e.start, e.end);
                self.error(Diagnostic::new(&codes::INVALID_ESCAPE, s, e.message).with_help(e.help));
                String::new()
            }
        }
    }

    pub(super) fn hole(&mut self, p: P<'_>) -> InterpPart {
        let mut exprs = Vec::new();
        let mut format = None;
        for k in kids(p) {
            match k.as_rule() {
                Rule::interp_format => format = Some(k.as_str().to_string()),
                Rule::binary => exprs.push(self.binary(k)),
                _ => exprs.push(self.expression(k)),
            }
        }
        let mut it = exprs.into_iter();
        let expr = it.next().unwrap_or_else(|| self.dummy(Span::default()));
        InterpPart::Hole {
            expr,
            align: it.next(),
            format,
        }
    }

    pub(super) fn type_ref(&mut self, p: P<'_>) -> TypeRef {
        let span = self.span(&p);
        let mut base: Option<TypeRef> = None;
        for k in kids(p) {
            let ks = self.span(&k);
            match k.as_rule() {
                Rule::predefined_type => {
                    base = Some(TypeRef {
                        kind: TypeKind::Predefined(k.as_str().to_string()),
                        span: ks,
                    });
                }
                Rule::type_name => {
                    let mut segs = Vec::new();
                    for part in kids(k) {
                        let mut it = kids(part).into_iter();
                        let Some(name) = it.next() else { continue };
                        let name = self.ident(&name);
                        let args = it
                            .next()
                            .map(|ta| kids(ta).into_iter().map(|t| self.type_ref(t)).collect())
                            .unwrap_or_default();
                        segs.push(TypeSegment { name, args });
                    }
                    base = Some(TypeRef {
                        kind: TypeKind::Named(segs),
                        span: ks,
                    });
                }
                Rule::nullable_mark | Rule::strict_nullable_mark => {
                    if let Some(b) = base.take() {
                        let s = b.span.to(ks);
                        base = Some(TypeRef {
                            kind: TypeKind::Nullable(Box::new(b)),
                            span: s,
                        });
                    }
                }
                Rule::rank_specifier => {
                    if let Some(b) = base.take() {
                        let rank =
                            u8::try_from(k.as_str().matches(',').count() + 1).unwrap_or(u8::MAX);
                        let s = b.span.to(ks);
                        base = Some(TypeRef {
                            kind: TypeKind::Array(Box::new(b), rank),
                            span: s,
                        });
                    }
                }
                _ => {}
            }
        }
        base.unwrap_or(TypeRef {
            kind: TypeKind::Named(Vec::new()),
            span,
        })
    }
}

/// Offset of the first `""` in a regular string body that is not part of an escape.
fn first_doubled_quote(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' if b.get(i + 1) == Some(&b'"') => return Some(i),
            _ => i += 1,
        }
    }
    None
}
