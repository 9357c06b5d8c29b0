//! Named-value substitution: `{{name}}` replaced by its value as text, before anything is
//! parsed, as APIM does. The substituted text comes with an [`OffsetMap`] back to the file, so
//! spans still point at the `{{name}}` as written; secret values are scrubbed from messages.

use turnpike_diagnostics::{Diagnostic, FileId};

use crate::offsets::{MapBuilder, OffsetMap};
use crate::scan::find_named_values;
use crate::tree::Document;
use crate::xml::parse_document_mapped;

/// A named value's value as the resolver knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The text substituted for `{{name}}`.
    pub value: String,
    /// A secret: its value never appears in any output.
    pub secret: bool,
}

/// The result of substituting a document's named values.
#[derive(Debug)]
pub struct Substituted {
    /// The text with known references replaced; unknown ones stay as written.
    pub text: String,
    /// Offsets in `text` to offsets in the file.
    pub map: OffsetMap,
    /// Every secret substituted, to scrub from output.
    pub secrets: Vec<Secret>,
}

/// A secret named value as it was substituted.
#[derive(Clone, Debug)]
pub struct Secret {
    /// Its value.
    pub value: String,
    /// Its name.
    pub name: String,
    /// Where its `{{name}}` stands in the file.
    pub range: std::ops::Range<usize>,
}

/// Replaces every `{{name}}` outside XML comments whose value `lookup` knows.
pub fn substitute(src: &str, lookup: &dyn Fn(&str) -> Option<Resolved>) -> Substituted {
    let mut b = MapBuilder::new(0, src.len());
    let mut secrets = Vec::new();
    let mut copied = 0;
    let mut pos = 0;
    while pos < src.len() {
        let next_comment = src[pos..].find("<!--").map(|i| pos + i);
        let region_end = next_comment.unwrap_or(src.len());
        for (s, e) in find_named_values(&src[pos..region_end]) {
            let (s, e) = (pos + s, pos + e);
            let name = &src[s + 2..e - 2];
            if let Some(r) = lookup(name) {
                b.copy(copied, &src[copied..s]);
                b.replace(s, &r.value);
                copied = e;
                if r.secret && !r.value.is_empty() {
                    secrets.push(Secret {
                        value: r.value,
                        name: name.to_string(),
                        range: s..e,
                    });
                }
            }
        }
        pos = match next_comment {
            Some(c) => src[c..].find("-->").map_or(src.len(), |i| c + i + 3),
            None => src.len(),
        };
    }
    b.copy(copied, &src[copied..]);
    let (text, map) = b.finish(src.len());
    Substituted { text, map, secrets }
}

/// Reads a policy document with its named values substituted. Spans point into `src` as
/// written; secret values are replaced by `{{name}}` in every message, label, help and note.
pub fn parse_document_with(
    file: FileId,
    src: &str,
    lookup: &dyn Fn(&str) -> Option<Resolved>,
) -> (Document, Vec<Diagnostic>) {
    let sub = substitute(src, lookup);
    let (doc, mut diags) = if sub.map.is_identity() {
        crate::xml::parse_document(file, src)
    } else {
        parse_document_mapped(file, &sub.text, Some(&sub.map))
    };
    scrub(&mut diags, &sub.secrets);
    (doc, diags)
}

/// Keeps secret values out of diagnostics: every occurrence of a secret's value becomes its
/// `{{name}}`, and in a diagnostic that points into a secret's reference, every quoted piece
/// of text that is part of the secret does too.
pub fn scrub(diags: &mut [Diagnostic], secrets: &[Secret]) {
    if secrets.is_empty() {
        return;
    }
    for d in diags {
        let inside: Vec<&Secret> = secrets
            .iter()
            .filter(|s| {
                d.labels.iter().any(|l| {
                    (l.span.start as usize) < s.range.end
                        && s.range.start < (l.span.end as usize).max(l.span.start as usize + 1)
                })
            })
            .collect();
        let clean = |text: &mut String| {
            for s in secrets {
                if text.contains(s.value.as_str()) {
                    *text = text.replace(s.value.as_str(), &format!("{{{{{}}}}}", s.name));
                }
            }
            for s in &inside {
                *text = replace_quoted(text, |q| !q.is_empty() && s.value.contains(q), &s.name);
            }
        };
        clean(&mut d.message);
        for l in &mut d.labels {
            clean(&mut l.message);
        }
        if let Some(h) = &mut d.help {
            clean(h);
        }
        for n in &mut d.notes {
            clean(n);
        }
    }
}

/// Replaces each backtick-quoted piece for which `hit` holds by `` `{{name}}` ``.
fn replace_quoted(text: &str, hit: impl Fn(&str) -> bool, name: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd pieces are inside backticks (when they are closed).
        if i % 2 == 1 && i + 1 < parts.len() && hit(part) {
            out.push_str(&format!("{{{{{name}}}}}"));
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::ValueKind;

    fn lookup(name: &str) -> Option<Resolved> {
        match name {
            "host" => Some(Resolved {
                value: "api.example.com".into(),
                secret: false,
            }),
            "key" => Some(Resolved {
                value: "1 s3cr3t".into(),
                secret: true,
            }),
            _ => None,
        }
    }

    #[test]
    fn substitutes_outside_comments_and_keeps_unknown_names() {
        let src = "<a v=\"https://{{host}}/x\"><!-- {{host}} -->{{other}}</a>";
        let s = substitute(src, &lookup);
        assert_eq!(
            s.text,
            "<a v=\"https://api.example.com/x\"><!-- {{host}} -->{{other}}</a>"
        );
        let at = s.text.find("{{other}}").unwrap_or(0);
        assert_eq!(&src[s.map.to_raw(at)..s.map.to_raw(at + 9)], "{{other}}");
    }

    #[test]
    fn expressions_see_values_and_spans_point_at_the_reference() {
        let src = r#"<policies><inbound><set-variable name="x" value="@("{{host}}".Length + )" /></inbound></policies>"#;
        let (doc, diags) = parse_document_with(FileId::default(), src, &lookup);
        assert_eq!(diags.len(), 1, "{diags:?}");
        // The syntax error is at the `)` as written in the file.
        let span = diags[0].primary_span().unwrap_or_default();
        assert_eq!(&src[span.range()], ")");
        let root = doc.root.as_ref().expect("root");
        let set = root
            .elements()
            .next()
            .and_then(|i| i.elements().next())
            .expect("set-variable");
        let value = &set.attr("value").expect("value").value;
        match &value.kind {
            ValueKind::Expression(e) => {
                assert!(e.code.contains("api.example.com"));
                assert_eq!(&src[e.span.range()], r#"@("{{host}}".Length + )"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_are_scrubbed_from_messages() {
        let src = r#"<policies><inbound><set-variable name="x" value="@({{key}} + 1)" /></inbound></policies>"#;
        let (_, diags) = parse_document_with(FileId::default(), src, &lookup);
        let all = format!("{diags:?}");
        assert!(!all.contains("s3cr3t"), "{all}");
        assert!(all.contains("{{key}}"), "{all}");
    }
}
