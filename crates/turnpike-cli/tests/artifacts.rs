//! `tests/artifacts/<case>/`: APIOps artifact folders linted as `turnpike lint` runs them, with
//! a snapshot of the output and exit status in `tests/artifacts/snapshots/`. A case may hold
//! `lint.args` (more arguments, e.g. `--overrides configuration.dev.yaml`, paths relative to
//! the case) and `lint.env` (`NAME=value` lines for the environment).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases() -> Vec<PathBuf> {
    let dir = root().join("tests/artifacts");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "snapshots"))
        .collect();
    out.sort();
    out
}

#[test]
fn artifact_folders_match_their_snapshots() {
    let cases = cases();
    assert!(cases.len() >= 15, "only {} artifact cases", cases.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/artifacts/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for case in cases {
            let rel = case.strip_prefix(root()).unwrap_or(&case).to_path_buf();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_turnpike"));
            cmd.current_dir(root()).arg("lint").arg(&rel);
            let mut shown = String::new();
            if let Ok(args) = std::fs::read_to_string(case.join("lint.args")) {
                for arg in args.split_whitespace() {
                    let as_path = rel.join(arg);
                    if root().join(&as_path).exists() {
                        cmd.arg(&as_path);
                    } else {
                        cmd.arg(arg);
                    }
                    shown.push(' ');
                    shown.push_str(arg);
                }
            }
            if let Ok(env) = std::fs::read_to_string(case.join("lint.env")) {
                for line in env.lines().filter(|l| l.contains('=')) {
                    if let Some((k, v)) = line.split_once('=') {
                        cmd.env(k.trim(), v.trim());
                        shown = format!(" {}={}{shown}", k.trim(), v.trim());
                    }
                }
            }
            let out = cmd.output().expect("run turnpike");
            let text = format!(
                "$ turnpike lint {}{shown}\n# exit {}\n{}",
                rel.display(),
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout)
            );
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            insta::assert_snapshot!(name, text);
        }
    });
}
