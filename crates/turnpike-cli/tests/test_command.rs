//! `turnpike test` and `turnpike compile` as scripts see them.

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

/// `N passed, M failed` from the last line.
fn counts(out: &str) -> (usize, usize) {
    let last = out.lines().last().unwrap_or_default();
    let nums: Vec<usize> = last
        .split(", ")
        .map(|p| {
            p.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert_eq!(
        last,
        format!("{} passed, {} failed", nums[0], nums[1]),
        "bad summary line"
    );
    (nums[0], nums[1])
}

#[test]
fn every_expression_conformance_case_passes_on_the_interpreter() {
    let o = turnpike(&[
        "test",
        "tests/conformance/expressions",
        "--engine",
        "interp",
    ]);
    let out = stdout(&o);
    let (passed, failed) = counts(&out);
    assert_eq!(failed, 0, "{out}");
    assert!(passed >= 250, "only {passed} cases");
    assert!(o.status.success());
}

#[test]
fn failures_print_expected_and_actual_and_exit_1() {
    let o = turnpike(&["test", "crates/turnpike-cli/tests/fixtures/runner"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(counts(&out), (1, 5), "{out}");
    insta::assert_snapshot!("broken_expectations", out);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let o = turnpike(&["test", "tests/no-such-folder"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compile_emits_ast_and_ir() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/compile"))
        .expect("tests/compile")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cs"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for f in files {
        let rel = f
            .strip_prefix(root())
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        let name = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let ir = turnpike(&["compile", &rel, "--emit", "ir"]);
        assert!(
            ir.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&ir.stderr)
        );
        let ast = turnpike(&["compile", &rel, "--emit", "ast"]);
        assert!(ast.status.success(), "{rel}");
        let text = format!("--- ast\n{}--- ir\n{}", stdout(&ast), stdout(&ir));
        insta::assert_snapshot!(format!("compile_{name}"), text);
    }
}

#[test]
fn compile_reports_type_errors_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("turnpike-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let f = dir.join("bad.cs");
    std::fs::write(&f, "@(\"a\".Lenght)").expect("write");
    let o = turnpike(&["compile", f.to_str().unwrap_or_default(), "--emit", "ir"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error[TP0504 unknown-member]"), "{err}");
    assert!(err.contains("did you mean `Length`?"), "{err}");
}

#[test]
fn junit_reports_every_case_and_its_failure() {
    let o = turnpike(&[
        "test",
        "crates/turnpike-cli/tests/fixtures/runner",
        "--format",
        "junit",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.starts_with("<?xml"), "{out}");
    assert!(
        out.contains("<testsuites name=\"turnpike\" tests=\"6\" failures=\"5\">"),
        "{out}"
    );
    assert_eq!(out.matches("<testcase ").count(), 6, "{out}");
    assert_eq!(out.matches("<failure ").count(), 5, "{out}");
    assert!(out.contains("name=\"wrong-header-and-status\""), "{out}");
}

#[test]
fn every_conformance_case_passes_expressions_and_policies() {
    let o = turnpike(&["test", "tests/conformance"]);
    let out = stdout(&o);
    let (passed, failed) = counts(&out);
    assert_eq!(failed, 0, "{out}");
    assert!(passed >= 1000, "only {passed} cases");
    assert!(o.status.success());
}

#[test]
fn every_example_suite_passes() {
    let o = turnpike(&["test", "examples"]);
    let out = stdout(&o);
    let (passed, failed) = counts(&out);
    assert_eq!(failed, 0, "{out}");
    assert!(passed >= 4, "only {passed} cases");
}

#[test]
fn every_conformance_case_passes_with_the_jit_engine() {
    let o = turnpike(&["test", "tests/conformance", "--engine", "jit"]);
    let out = stdout(&o);
    let (passed, failed) = counts(&out);
    assert_eq!(failed, 0, "{out}");
    assert!(passed >= 1000, "only {passed} cases");
    assert!(o.status.success());
}

#[test]
fn compile_emits_cranelift_ir_or_says_why_not() {
    let dir = std::env::temp_dir().join(format!("turnpike-clif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let loop_file = dir.join("loop.cs");
    std::fs::write(
        &loop_file,
        "@{ int s = 0; for (int i = 0; i < 10; i++) { s += i / (i - 11); } return s; }",
    )
    .expect("write");
    let o = turnpike(&[
        "compile",
        loop_file.to_str().unwrap_or_default(),
        "--emit",
        "clif",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.starts_with("function "), "{out}");
    // The division is guarded: a compare with zero before `sdiv`.
    assert!(out.contains("sdiv"), "{out}");
    assert!(out.contains("icmp eq"), "{out}");
    // A body with a lambda compiles too: its library calls are islands, run by the
    // interpreter through the host function `tp_island`, which the listing names.
    let lambda_file = dir.join("lambda.cs");
    std::fs::write(&lambda_file, "@(new[] { 1, 2 }.Select(x => x + 1).Count())").expect("write");
    let o = turnpike(&[
        "compile",
        lambda_file.to_str().unwrap_or_default(),
        "--emit",
        "clif",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    let island = out
        .lines()
        .find_map(|l| l.strip_prefix("; ")?.strip_suffix(" = tp_island"))
        .unwrap_or_else(|| panic!("the listing names the island function:\n{out}"))
        .to_string();
    assert!(out.contains(&format!("call {island}(")), "{out}");
    // A file that is not one expression is refused with a diagnostic.
    let bad_file = dir.join("bad.cs");
    std::fs::write(&bad_file, "@(1 +)").expect("write");
    let o = turnpike(&[
        "compile",
        bad_file.to_str().unwrap_or_default(),
        "--emit",
        "clif",
    ]);
    assert_ne!(o.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
