//! Operations from an API specification, read from the raw document.
//!
//! The common crates each model one OpenAPI version, so the document is read as plain
//! JSON/YAML data: `swagger: "2.0"` and `openapi: 3.0.x / 3.1.x` all keep operations under
//! `paths.<template>.<method>` with an `operationId`, which is all the gateway needs to route.
//! Example responses are kept for `mock-response`.

use serde_json::Value;

use crate::yaml::yaml_to_json;

/// The version family of a specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecVersion {
    /// Swagger / OpenAPI 2.0.
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x.
    OpenApi31,
}

/// One operation of an API.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// `operationId` (or a name made from method and path when it is missing).
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// URL template relative to the API path, e.g. `/orders/{id}`.
    pub template: String,
    /// Example bodies by status code, from the specification.
    pub examples: Vec<(String, Value)>,
}

/// A parsed specification.
#[derive(Clone, Debug, PartialEq)]
pub struct Specification {
    /// Which OpenAPI version.
    pub version: SpecVersion,
    /// Operations in document order.
    pub operations: Vec<Operation>,
}

/// Why a specification could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecError {
    /// Not JSON or YAML; the message and byte offset of the problem.
    Syntax(String, usize),
    /// Parsed, but not an OpenAPI or Swagger document.
    NotOpenApi(String),
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Parses the text of a specification (JSON or YAML).
pub fn parse_specification(text: &str) -> Result<Specification, SpecError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let doc = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(text)
            .map_err(|e| SpecError::Syntax(e.to_string(), offset_of(text, e.line(), e.column())))?
    } else {
        yaml_to_json(text).map_err(|(m, at)| SpecError::Syntax(m, at))?
    };
    let version = if let Some(v) = doc.get("swagger").and_then(Value::as_str) {
        if v.starts_with('2') {
            SpecVersion::Swagger2
        } else {
            return Err(SpecError::NotOpenApi(format!(
                "`swagger: {v}` is not a version Turnpike reads"
            )));
        }
    } else if let Some(v) = doc.get("openapi").and_then(Value::as_str) {
        if v.starts_with("3.0") {
            SpecVersion::OpenApi30
        } else if v.starts_with("3.1") {
            SpecVersion::OpenApi31
        } else {
            return Err(SpecError::NotOpenApi(format!(
                "`openapi: {v}` is not a version Turnpike reads"
            )));
        }
    } else {
        return Err(SpecError::NotOpenApi(
            "the document has neither a `swagger` nor an `openapi` version field".into(),
        ));
    };
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                    || format!("{method}{}", template.replace(['/', '{', '}'], "-")),
                    str::to_string,
                );
                operations.push(Operation {
                    id,
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    examples: examples(op, version),
                });
            }
        }
    }
    Ok(Specification {
        version,
        operations,
    })
}

/// Example bodies of an operation's responses, by status code.
fn examples(op: &Value, version: SpecVersion) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return out;
    };
    for (status, response) in responses {
        let found = match version {
            SpecVersion::Swagger2 => response
                .get("examples")
                .and_then(Value::as_object)
                .and_then(|m| m.values().next().cloned()),
            _ => response
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.values().next())
                .and_then(|media| {
                    media.get("example").cloned().or_else(|| {
                        media
                            .get("examples")
                            .and_then(Value::as_object)
                            .and_then(|m| m.values().next())
                            .and_then(|e| e.get("value").cloned())
                    })
                }),
        };
        if let Some(example) = found {
            out.push((status.clone(), example));
        }
    }
    out
}

/// Byte offset of a 1-based line and column.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_three_versions() {
        let v2 = r#"{"swagger": "2.0", "paths": {"/items/{id}": {"get": {"operationId": "get-item",
            "responses": {"200": {"examples": {"application/json": {"id": 1}}}}}}}}"#;
        let s = parse_specification(v2).expect("2.0");
        assert_eq!(s.version, SpecVersion::Swagger2);
        assert_eq!(s.operations[0].template, "/items/{id}");
        assert_eq!(s.operations[0].examples[0].1["id"], 1);
        let v30 = "openapi: 3.0.1\npaths:\n  /a:\n    post:\n      operationId: make-a\n      responses:\n        '201':\n          content:\n            application/json:\n              example: {ok: true}\n";
        let s = parse_specification(v30).expect("3.0");
        assert_eq!(
            (s.operations[0].method.as_str(), s.operations[0].id.as_str()),
            ("POST", "make-a")
        );
        assert_eq!(s.operations[0].examples[0].1["ok"], true);
        let v31 =
            "openapi: 3.1.0\npaths:\n  /b:\n    get:\n      responses: {}\n    parameters: []\n";
        let s = parse_specification(v31).expect("3.1");
        assert_eq!(s.version, SpecVersion::OpenApi31);
        assert_eq!(s.operations.len(), 1);
        assert_eq!(s.operations[0].id, "get-b");
    }

    #[test]
    fn reports_bad_documents() {
        assert!(matches!(
            parse_specification("{\"a\": "),
            Err(SpecError::Syntax(..))
        ));
        assert!(matches!(
            parse_specification("a: [1, 2"),
            Err(SpecError::Syntax(..))
        ));
        assert!(matches!(
            parse_specification("info: {}"),
            Err(SpecError::NotOpenApi(_))
        ));
    }
}
