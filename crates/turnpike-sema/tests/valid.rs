//! `tests/syntax/valid/*.xml` and `policies/`: documents that must lint without any
//! diagnostic, with every expression parsed.

use std::path::PathBuf;

use turnpike_sema::lint_path;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn assert_clean(dir: &str, min_files: usize, min_expressions: usize) {
    let report = lint_path(&root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    let messages: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.name, d.message))
        .collect();
    assert!(messages.is_empty(), "{dir}: {messages:#?}");
    assert!(
        report.files() >= min_files,
        "{dir}: {} files",
        report.files()
    );
    assert!(
        report.expressions >= min_expressions,
        "{dir}: {} expressions",
        report.expressions
    );
    for doc in &report.documents {
        for e in doc.expressions() {
            assert!(
                e.body.is_some(),
                "{dir}: unparsed expression at {:?}",
                e.span
            );
        }
    }
}

#[test]
fn valid_syntax_documents_are_clean() {
    assert_clean("tests/syntax/valid", 2, 15);
}

#[test]
fn reusable_policies_are_clean() {
    assert_clean("policies", 3, 5);
}

#[test]
fn quickstart_is_clean() {
    assert_clean("examples/quickstart", 4, 6);
}
