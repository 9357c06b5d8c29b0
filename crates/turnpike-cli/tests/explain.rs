//! `turnpike explain` over `tests/explain/<case>/`: every line of a case's `explain.args` is
//! one call, and the outputs together are the case's snapshot (`tests/explain/snapshots/`).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn explain_cases_match_their_snapshots() {
    let dir = root().join("tests/explain");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("explain.args").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no explain cases");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for case in cases {
            let args = std::fs::read_to_string(case.join("explain.args")).unwrap_or_default();
            let rel = case.strip_prefix(root()).unwrap_or(&case).to_path_buf();
            let mut text = String::new();
            for line in args
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_turnpike"));
                cmd.current_dir(root())
                    .arg("explain")
                    .arg(&rel)
                    .args(line.split_whitespace());
                let out = cmd.output().expect("run turnpike");
                text.push_str(&format!(
                    "$ turnpike explain {} {line}\n# exit {}\n{}{}\n",
                    rel.display(),
                    out.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&out.stderr),
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            insta::assert_snapshot!(name, text);
        }
    });
}

#[test]
fn explain_json_labels_every_statement() {
    let out = Command::new(env!("CARGO_BIN_EXE_turnpike"))
        .current_dir(root())
        .args([
            "explain",
            "tests/explain/base-inheritance",
            "--api",
            "orders",
            "--operation",
            "get-order",
            "--product",
            "gold",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let inbound = v["sections"]["inbound"].as_array().expect("inbound");
    let scopes: Vec<&str> = inbound.iter().filter_map(|s| s["scope"].as_str()).collect();
    assert_eq!(
        scopes,
        ["operation", "product", "global", "product", "fragment"]
    );
    assert_eq!(
        inbound[4]["file"],
        "policy fragments/audit-headers/policy.xml"
    );
}

#[test]
fn explain_rejects_unknown_names() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_turnpike"))
            .current_dir(root())
            .arg("explain")
            .args(args)
            .output()
            .expect("run")
            .status
            .code()
    };
    assert_eq!(
        run(&[
            "tests/explain/base-inheritance",
            "--api",
            "nope",
            "--operation",
            "x"
        ]),
        Some(2)
    );
    assert_eq!(
        run(&[
            "tests/explain/base-inheritance",
            "--api",
            "orders",
            "--operation",
            "nope"
        ]),
        Some(2)
    );
    assert_eq!(
        run(&[
            "tests/explain/base-inheritance",
            "--api",
            "orders",
            "--operation",
            "get-order",
            "--product",
            "nope"
        ]),
        Some(2)
    );
}
