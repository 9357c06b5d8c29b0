//! `tests/syntax/invalid/*.xml`: every broken document has a snapshot of its rendered
//! diagnostics (`tests/syntax/invalid/snapshots/`), and together they cover the registry.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use turnpike_diagnostics::{codes, render_human, summary_line};
use turnpike_sema::lint_path;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Lints one case and renders it as `turnpike lint` prints it, with a stable file name.
fn rendered(path: &Path) -> (String, BTreeSet<&'static str>) {
    let report = lint_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&render_human(d, &report.sources));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(
        report.files(),
        report.expressions,
        report.errors(),
        report.warnings(),
    ));
    out.push('\n');
    let full = path.display().to_string();
    let short = format!(
        "tests/syntax/invalid/{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    let codes = report.diagnostics.iter().map(|d| d.code.name).collect();
    (out.replace(&full, &short), codes)
}

#[test]
fn invalid_documents_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/syntax/invalid/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../../../tests/syntax/invalid", "*.xml", |path| {
            let (text, codes) = rendered(path);
            assert!(!codes.is_empty(), "{}: no diagnostic", path.display());
            insta::assert_snapshot!(text);
        });
    });
}

/// Folder cases (`*.dir`): a tree linted as a whole, for what needs more than one file
/// (a `turnpike.toml`, say).
fn dir_cases() -> Vec<PathBuf> {
    let dir = root().join("tests/syntax/invalid");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "dir"))
        .collect();
    out.sort();
    out
}

#[test]
fn invalid_folders_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/syntax/invalid/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for case in dir_cases() {
            let (text, codes) = rendered(&case);
            assert!(!codes.is_empty(), "{}: no diagnostic", case.display());
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            insta::assert_snapshot!(format!("folder@{name}"), text);
        }
    });
}

/// Codes no document can show yet, with the reason.
const NOT_YET_EMITTED: &[(&str, &str)] = &[];

#[test]
fn invalid_documents_cover_every_code_and_there_are_enough_of_them() {
    let dir = root().join("tests/syntax/invalid");
    let mut seen = BTreeSet::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.map(|e| e.path()).unwrap_or_default();
        if path.extension().is_some_and(|e| e == "xml") {
            count += 1;
            seen.extend(rendered(&path).1);
        }
    }
    for case in dir_cases() {
        seen.extend(rendered(&case).1);
    }
    // Artifact-folder cases (their snapshots are checked by the CLI's tests) count too.
    for sub in ["tests/artifacts", "tests/explain"] {
        let dir = root().join(sub);
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.map(|e| e.path()).unwrap_or_default();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "snapshots") {
                seen.extend(rendered(&path).1);
            }
        }
    }
    assert!(count >= 80, "only {count} invalid documents");
    let missing: Vec<_> = codes::ALL
        .iter()
        .map(|c| c.name)
        .filter(|n| !seen.contains(n) && !NOT_YET_EMITTED.iter().any(|(c, _)| c == n))
        .collect();
    assert!(
        missing.is_empty(),
        "codes no invalid document shows: {missing:?}"
    );
}

#[test]
fn every_code_is_documented_in_the_spec() {
    let spec = std::fs::read_to_string(root().join("spec/07-errors.md")).unwrap_or_default();
    let missing: Vec<_> = codes::ALL
        .iter()
        .filter(|c| !spec.contains(&format!("## {} {}", c.id, c.name)))
        .map(|c| c.id)
        .collect();
    assert!(
        missing.is_empty(),
        "spec/07-errors.md lacks headings for {missing:?}"
    );
}
