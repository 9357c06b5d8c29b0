//! Every `*.test.yaml` under `tests/` follows the test-file schema
//! (`spec/schemas/test-file.schema.json`), and names its cases uniquely.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn test_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            test_files(&p, out);
        } else if p.to_string_lossy().ends_with(".test.yaml") {
            out.push(p);
        }
    }
}

#[test]
fn test_files_follow_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("spec/schemas/test-file.schema.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let mut files = Vec::new();
    test_files(&root().join("tests"), &mut files);
    test_files(&root().join("examples"), &mut files);
    test_files(
        &root().join("crates/turnpike-cli/tests/fixtures"),
        &mut files,
    );
    files.sort();
    assert!(!files.is_empty(), "no *.test.yaml under tests/");
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let doc = match turnpike_config::yaml::yaml_to_json(&text) {
            Ok(d) => d,
            Err((m, at)) => {
                problems.push(format!("{}: not YAML at byte {at}: {m}", f.display()));
                continue;
            }
        };
        for e in validator.iter_errors(&doc) {
            problems.push(format!("{}: {e} at {}", f.display(), e.instance_path()));
        }
        let mut names = std::collections::HashSet::new();
        for case in doc["cases"].as_array().map_or(&[][..], Vec::as_slice) {
            let name = case["name"].as_str().unwrap_or_default();
            if !names.insert(name.to_string()) {
                problems.push(format!("{}: case name `{name}` is used twice", f.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_schema_rejects_malformed_cases() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("spec/schemas/test-file.schema.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let good = serde_json::json!({"cases": [
        {"name": "a", "source": "dotnet8-oracle", "expression": "1 + 1", "value": 2, "type": "int"},
        {"name": "b", "source": "[expr.op.precedence]", "block": "return 1;", "exception": "FormatException"}
    ]});
    assert!(validator.is_valid(&good));
    for bad in [
        serde_json::json!({"cases": [{"name": "a", "source": "x", "expression": "1", "value": 1, "type": "int"}]}),
        serde_json::json!({"cases": [{"name": "a", "source": "dotnet8-oracle", "expression": "1", "block": "return 1;", "value": 1, "type": "int"}]}),
        serde_json::json!({"cases": [{"name": "a", "source": "dotnet8-oracle", "expression": "1"}]}),
        serde_json::json!({"cases": [{"name": "A b", "source": "dotnet8-oracle", "expression": "1", "value": 1, "type": "int"}]}),
        serde_json::json!({"cases": [{"name": "a", "source": "dotnet8-oracle", "expression": "1", "value": 1, "type": "int", "exception": "FormatException"}]}),
    ] {
        assert!(!validator.is_valid(&bad), "accepted {bad}");
    }
}

#[test]
fn every_conformance_expression_parses() {
    use turnpike_syntax::offsets::OffsetMap;
    use turnpike_syntax::parser::parse_code;
    use turnpike_syntax::scan::csharp::code_extent;
    let mut files = Vec::new();
    test_files(&root().join("tests"), &mut files);
    let mut failures = Vec::new();
    let mut count = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let Ok(doc) = turnpike_config::yaml::yaml_to_json(&text) else {
            continue;
        };
        for case in doc["cases"].as_array().map_or(&[][..], Vec::as_slice) {
            let code = match (case["expression"].as_str(), case["block"].as_str()) {
                (Some(e), _) => format!("@({e})"),
                (None, Some(b)) => format!("@{{{b}}}"),
                _ => continue,
            };
            count += 1;
            let map = OffsetMap::identity(0, code.len());
            let (body, diags) = parse_code(Default::default(), &code, &map, code_extent(&code));
            if body.is_none() {
                let why: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
                failures.push(format!(
                    "{} {}: {code}\n    {why:?}",
                    f.display(),
                    case["name"]
                ));
            }
        }
    }
    assert!(count > 0);
    assert!(
        failures.is_empty(),
        "{} of {count} do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
