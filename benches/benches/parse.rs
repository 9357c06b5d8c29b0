//! `parse`: the whole front end (scan, XML, expression grammar, AST) over the shared corpus.
//! Throughput is reported in documents per second.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use turnpike_diagnostics::SourceMap;
use turnpike_syntax::files::policy_files;
use turnpike_syntax::parse_document;

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let files = policy_files(&dir).unwrap_or_else(|e| panic!("corpus at {}: {e}", dir.display()));
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

fn parse(c: &mut Criterion) {
    let docs = corpus();
    let mut map = SourceMap::new();
    let ids: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| map.add(format!("doc{i}.xml"), d.as_str()))
        .collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(docs.len() as u64));
    group.bench_function(
        format!("corpus ({} documents, {bytes} bytes)", docs.len()),
        |b| {
            b.iter(|| {
                for (doc, id) in docs.iter().zip(&ids) {
                    black_box(parse_document(*id, black_box(doc)));
                }
            });
        },
    );
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
