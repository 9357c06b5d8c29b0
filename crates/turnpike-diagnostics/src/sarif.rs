//! SARIF 2.1.0 output, for code-scanning services in CI.

use serde_json::{Value, json};

use crate::{Diagnostic, Severity, SourceMap, codes};

/// All diagnostics as one SARIF 2.1.0 log with a single run. Every registry code is listed as
/// a rule; each result names its rule by id and index.
pub fn render_sarif(diags: &[Diagnostic], sources: &SourceMap, version: &str) -> String {
    let rules: Vec<Value> = codes::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "shortDescription": { "text": c.summary },
                "defaultConfiguration": { "level": level(c.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let rule_index = codes::ALL.iter().position(|c| c.id == d.code.id).unwrap_or(0);
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.code.id,
                "ruleIndex": rule_index,
                "level": level(d.severity),
                "message": { "text": message },
            });
            if let Some(span) = d.primary_span() {
                let file = sources.get(span.file);
                let (start_line, start_column) = file.line_col(span.start);
                let (end_line, end_column) = file.line_col(span.end);
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(file.name()) },
                        "region": {
                            "startLine": start_line,
                            "startColumn": start_column,
                            "endLine": end_line,
                            "endColumn": end_column.max(if end_line == start_line { start_column } else { 1 }),
                            "byteOffset": span.start,
                            "byteLength": span.len(),
                        }
                    }
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "turnpike",
                    "version": version,
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A file name as a URI reference: relative paths stay relative, absolute ones become
/// `file://` URIs; characters outside the unreserved set and `/` are percent-encoded.
fn uri(name: &str) -> String {
    let name = name.replace('\\', "/");
    let mut out = String::new();
    if name.starts_with('/') {
        out.push_str("file://");
    }
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Span;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("a b/c.xml"), "a%20b/c.xml");
        assert_eq!(uri("/tmp/x.xml"), "file:///tmp/x.xml");
        assert_eq!(uri("../shared/é.xml"), "../shared/%C3%A9.xml");
    }

    #[test]
    fn results_point_at_rules() {
        let mut map = SourceMap::new();
        let f = map.add("p.xml", "<a>\n {{x}}</a>");
        let d = Diagnostic::new(&codes::UNRESOLVED_NAMED_VALUE, Span::new(f, 5, 10), "m");
        let log: Value =
            serde_json::from_str(&render_sarif(&[d], &map, "0.0.0")).unwrap_or_default();
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "TP0301");
        let idx = result["ruleIndex"].as_u64().unwrap_or(999) as usize;
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            "TP0301"
        );
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(result["level"], "warning");
    }
}
