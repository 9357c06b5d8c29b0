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
