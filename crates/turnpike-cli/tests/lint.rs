//! `turnpike lint` as scripts see it: output contract and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn turnpike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnpike"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run turnpike")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn summary(line: &str) -> (usize, usize, usize, usize) {
    let nums: Vec<usize> = line
        .split(", ")
        .map(|part| {
            part.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("bad summary line {line:?}"))
        })
        .collect();
    let words: Vec<&str> = line
        .split(", ")
        .filter_map(|p| p.split(' ').nth(1))
        .collect();
    assert_eq!(
        words,
        ["files", "expressions", "errors", "warnings"],
        "{line}"
    );
    (nums[0], nums[1], nums[2], nums[3])
}

#[test]
fn corpus_lints_clean() {
    let out = turnpike(&["lint", "../shared/corpus"]);
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or_default();
    let (files, exprs, errors, _) = summary(last);
    assert_eq!(out.status.code(), Some(0), "{last}");
    assert_eq!((files, errors), (396, 0));
    assert!(exprs >= 680, "{last}");
}

#[test]
fn errors_exit_one_with_rustc_style_output() {
    let dir = std::env::temp_dir().join(format!("turnpike-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("bad.xml");
    std::fs::write(
        &file,
        "<policies>\n  <inbound>\n    <set-variable name=\"x\" value=\"@(1 +)\" />\n  </inbound>\n</policies>\n",
    )
    .expect("write");
    let out = turnpike(&["lint", file.to_str().unwrap_or_default()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("error[TP0201 expression-syntax]: "),
        "{text}"
    );
    assert!(
        text.contains(&format!("--> {}:3:40", file.display())),
        "{text}"
    );
    assert!(text.contains('^'), "{text}");
    assert_eq!(
        text.lines().last(),
        Some("1 files, 1 expressions, 1 errors, 0 warnings")
    );

    let out = turnpike(&[
        "lint",
        "--format",
        "json",
        file.to_str().unwrap_or_default(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
    let first = &json[0];
    for key in [
        "code", "name", "severity", "message", "file", "line", "column", "span",
    ] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    assert_eq!(first["name"], "expression-syntax");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(3), Some(40))
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("1 files, 1 expressions, 1 errors, 0 warnings")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn json_of_a_clean_tree_is_an_empty_array_or_warnings() {
    let out = turnpike(&["lint", "--format", "json", "../shared/corpus"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
    let all = json.as_array().expect("array");
    assert!(all.iter().all(|d| d["severity"] == "warning"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(turnpike(&["lint"]).status.code(), Some(2));
    assert_eq!(
        turnpike(&["lint", "--format", "yaml", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(turnpike(&["lint", "no/such/path"]).status.code(), Some(2));
    assert_eq!(turnpike(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn quickstart_lints_clean() {
    let out = turnpike(&["lint", "examples/quickstart"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("turnpike-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for target in [
        "tests/syntax/invalid",
        "../shared/corpus-invalid",
        "examples/quickstart",
    ] {
        let out = turnpike(&["lint", "--format", "sarif", target]);
        let log: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{target}: {errors:#?}");
        assert_eq!(log["version"], "2.1.0");
        let results = log["runs"][0]["results"].as_array().map_or(0, Vec::len);
        if target != "examples/quickstart" {
            assert!(results > 0, "{target}: no results");
        }
    }
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let dir = scratch("deny");
    std::fs::write(
        dir.join("w.xml"),
        "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>{{secret}}</value></set-header></inbound></policies>",
    )
    .expect("write");
    let path = dir.to_str().unwrap_or_default();
    assert_eq!(turnpike(&["lint", path]).status.code(), Some(0));
    assert_eq!(
        turnpike(&["lint", "--deny-warnings", path]).status.code(),
        Some(1)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn turnpike_toml_sets_severities() {
    let dir = scratch("config");
    std::fs::write(
        dir.join("w.xml"),
        "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>{{secret}}</value></set-header></inbound></policies>",
    )
    .expect("write");
    let path = dir.to_str().unwrap_or_default();
    std::fs::write(
        dir.join("turnpike.toml"),
        "[severity]\nunresolved-named-value = \"error\"\n",
    )
    .expect("write");
    let out = turnpike(&["lint", path]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("error[TP0301 unresolved-named-value]"));
    std::fs::write(dir.join("turnpike.toml"), "[severity]\nTP0301 = \"off\"\n").expect("write");
    let out = turnpike(&["lint", path]);
    assert_eq!(
        stdout(&out).lines().last(),
        Some("1 files, 0 expressions, 0 errors, 0 warnings")
    );
    std::fs::write(
        dir.join("turnpike.toml"),
        "[severity]\nno-such-code = \"off\"\n",
    )
    .expect("write");
    let out = turnpike(&["lint", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("invalid-config"), "{}", stdout(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn inline_suppression_silences_the_next_line() {
    let dir = scratch("suppress");
    std::fs::write(
        dir.join("s.xml"),
        "<policies>\n  <inbound>\n    <!-- turnpike-ignore: unknown-policy -->\n    <set-hedaer name=\"x\" />\n    <set-hedaer name=\"y\" />\n  </inbound>\n</policies>\n",
    )
    .expect("write");
    let out = turnpike(&["lint", dir.to_str().unwrap_or_default()]);
    let text = stdout(&out);
    assert_eq!(text.matches("unknown-policy]").count(), 1, "{text}");
    assert!(text.contains(":5:6"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn corpus_invalid_documents_each_get_unknown_policy() {
    let out = turnpike(&["lint", "--format", "json", "../shared/corpus-invalid"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let all = json.as_array().expect("array");
    let files: std::collections::BTreeSet<&str> = all
        .iter()
        .filter(|d| d["name"] == "unknown-policy" && d["severity"] == "error")
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert_eq!(files.len(), 16, "{files:#?}");
    for d in all.iter().filter(|d| d["name"] == "unknown-policy") {
        let file = d["file"].as_str().unwrap_or_default();
        let message = d["message"].as_str().unwrap_or_default();
        if message.contains("darp") {
            let help = d["help"].as_str().unwrap_or_default();
            assert!(help.contains("dapr"), "{file}: {help}");
        }
        let _ = file;
    }
}

/// Writes `files` (path, text) below a fresh folder.
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    for (path, text) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    dir
}

const SENTINEL: &str = "Zq9-SENTINEL-SECRET-4711";

#[test]
fn secret_named_values_never_appear_in_any_output() {
    let secret = format!(
        "{{\"properties\": {{\"displayName\": \"backend-key\", \"value\": \"{SENTINEL} x\", \"secret\": true}}}}"
    );
    let dir = tree(
        "secret",
        &[
            (
                "apis/orders/apiInformation.json",
                "{\"properties\": {\"displayName\": \"Orders\", \"path\": \"orders\"}}",
            ),
            (
                "apis/orders/policy.xml",
                "<policies>\n  <inbound>\n    <set-header name=\"x-key\" exists-action=\"override\"><value>{{backend-key}}</value></set-header>\n    <set-variable name=\"k\" value=\"@({{backend-key}})\" />\n    <retry count=\"{{backend-key}}\" interval=\"1\" condition=\"@(false)\"><forward-request /></retry>\n  </inbound>\n</policies>\n",
            ),
            (
                "named values/backend-key/namedValueInformation.json",
                &secret,
            ),
        ],
    );
    let path = dir.to_str().unwrap_or_default();
    let mut saw_errors = false;
    for format in ["human", "json", "sarif"] {
        let out = turnpike(&["lint", "--format", format, path]);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(
            !all.contains("SENTINEL"),
            "{format} output shows the secret:\n{all}"
        );
        saw_errors |= out.status.code() == Some(1);
        assert!(all.contains("{{backend-key}}"), "{format}: {all}");
    }
    assert!(
        saw_errors,
        "the document was meant to have errors that quote the value"
    );
    for format in ["human", "json"] {
        let out = turnpike(&[
            "explain",
            path,
            "--api",
            "orders",
            "--operation",
            "any",
            "--format",
            format,
        ]);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(
            !all.contains("SENTINEL"),
            "explain {format} shows the secret:\n{all}"
        );
        assert!(all.contains("{{backend-key}}"), "explain {format}: {all}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn named_values_are_substituted_in_artifact_folders() {
    let dir = tree(
        "named",
        &[
            (
                "apis/orders/apiInformation.json",
                "{\"properties\": {\"displayName\": \"Orders\", \"path\": \"orders\"}}",
            ),
            (
                "apis/orders/policy.xml",
                "<policies>\n  <inbound>\n    <rate-limit-by-key calls=\"{{calls}}\" renewal-period=\"60\" counter-key=\"@(context.Request.IpAddress)\" />\n    <set-header name=\"x\" exists-action=\"override\"><value>{{missing}}</value></set-header>\n  </inbound>\n</policies>\n",
            ),
            (
                "named values/calls/namedValueInformation.json",
                "{\"properties\": {\"displayName\": \"calls\", \"value\": \"ten\"}}",
            ),
        ],
    );
    let out = turnpike(&["lint", dir.to_str().unwrap_or_default()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The substituted value is checked, and the span points at the reference as written.
    assert!(
        text.contains("error[TP0410 invalid-value]: `calls` is `ten`"),
        "{text}"
    );
    assert!(text.contains("policy.xml:3:31"), "{text}");
    assert!(
        text.contains("error[TP0303 unknown-named-value]: named value `missing` is not defined"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn overrides_then_environment_give_named_values() {
    let dir = tree(
        "overrides",
        &[
            (
                "apis/orders/apiInformation.json",
                "{\"properties\": {\"displayName\": \"Orders\", \"path\": \"orders\"}}",
            ),
            (
                "apis/orders/policy.xml",
                "<policies>\n  <inbound>\n    <rate-limit-by-key calls=\"{{calls}}\" renewal-period=\"{{period}}\" counter-key=\"@(context.Request.IpAddress)\" />\n  </inbound>\n</policies>\n",
            ),
            (
                "named values/calls/namedValueInformation.json",
                "{\"properties\": {\"displayName\": \"calls\", \"value\": \"ten\"}}",
            ),
            (
                "configuration.dev.yaml",
                "namedValues:\n  - name: calls\n    properties:\n      value: \"10\"\n",
            ),
        ],
    );
    let path = dir.to_str().unwrap_or_default();
    let overrides = dir.join("configuration.dev.yaml");
    let overrides = overrides.to_str().unwrap_or_default();
    // Without overrides: `ten` is not an integer and `period` is not defined.
    let out = turnpike(&["lint", path]);
    let text = stdout(&out);
    assert!(text.contains("`calls` is `ten`"), "{text}");
    assert!(text.contains("unknown-named-value"), "{text}");
    // With overrides and the environment, both are known and valid.
    let out = Command::new(env!("CARGO_BIN_EXE_turnpike"))
        .args(["lint", "--overrides", overrides, path])
        .env("TURNPIKE_NV_PERIOD", "60")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The environment wins over the overrides file.
    let out = Command::new(env!("CARGO_BIN_EXE_turnpike"))
        .args(["lint", "--overrides", overrides, path])
        .env("TURNPIKE_NV_PERIOD", "60")
        .env("TURNPIKE_NV_CALLS", "many")
        .output()
        .expect("run");
    assert!(
        stdout(&out).contains("`calls` is `many`"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&dir).ok();
}
