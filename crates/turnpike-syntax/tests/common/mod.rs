//! Helpers shared by the syntax crate's integration tests.

use std::path::PathBuf;

use turnpike_diagnostics::{FileId, SourceMap};
use turnpike_syntax::files::policy_files;

/// The shared corpus of real policy documents (`../shared/corpus` beside the checkout).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// Every corpus document as (path, text). Panics if the corpus is missing: these tests must
/// not pass vacuously.
pub fn corpus() -> Vec<(String, String)> {
    let dir = corpus_dir();
    let files = policy_files(&dir).unwrap_or_else(|e| panic!("corpus at {}: {e}", dir.display()));
    assert!(
        files.len() >= 396,
        "expected the 396 corpus documents, found {}",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), text)
        })
        .collect()
}

/// A one-file source map.
pub fn single(name: &str, text: &str) -> (SourceMap, FileId) {
    let mut map = SourceMap::new();
    let id = map.add(name, text);
    (map, id)
}

/// The `Debug` form of a value with every `Span { .. }` removed: the tree's shape and content.
#[allow(dead_code, reason = "not every test binary uses every helper")]
pub fn without_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('}').map_or(after.len(), |j| j + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
