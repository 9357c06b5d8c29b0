//! `eval_jit`: native code against the interpreter in one run.
//!
//! - `arith`: a set of arithmetic, comparison and branching blocks (loops, integer and
//!   floating-point math, early exits), every one compiled by the JIT; each iteration runs the
//!   whole set once on each engine.
//! - `corpus`: every corpus expression, on the JIT where it compiles and on the interpreter
//!   elsewhere (the mix the gateway would run), against the interpreter alone.
//! - `compile`: compiling the corpus's bodies with the JIT (what a reload costs).

use std::hint::black_box;
use std::path::PathBuf;
use std::rc::Rc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use turnpike_interp::dotnet::datetime::{DateTime, Kind};
use turnpike_interp::{Context, Options, run};

/// Arithmetic, comparison and branching: what the JIT must run at least 10 times faster.
pub const ARITH: &[&str] = &[
    "@{ int s = 0; for (int i = 0; i < 100; i++) { s += i * i % 7; } return s; }",
    "@{ long a = 1071, b = 462; while (b != 0) { long t = a % b; a = b; b = t; } return a; }",
    "@{ long f0 = 0, f1 = 1; for (int i = 0; i < 80; i++) { long t = f0 + f1; f0 = f1; f1 = t; } return f1; }",
    "@{ long n = 27; int steps = 0; while (n != 1) { n = n % 2 == 0 ? n / 2 : 3 * n + 1; steps++; } return steps; }",
    "@{ int n = 7919; bool prime = n > 1; for (int d = 2; d * d <= n; d++) { if (n % d == 0) { prime = false; break; } } return prime; }",
    "@{ int x = 0x5A5A; int bits = 0; while (x != 0) { bits += x & 1; x >>= 1; } return bits; }",
    "@{ double s = 0.0; for (int i = 1; i <= 50; i++) { s += 1.0 / (i * (double)i); } return s; }",
    "@{ double x = 2.0; for (int i = 0; i < 20; i++) { x = x - (x * x - 2.0) / (2.0 * x); } return x; }",
    "@{ int max = -1000; for (int i = 0; i < 64; i++) { int v = (i * 37 + 11) % 101; if (v > max) { max = v; } } return max; }",
    "@{ long h = 1469598103934665603L; for (int i = 0; i < 32; i++) { h ^= i; h *= 1099511628211L; } return h; }",
    "@(3 * 7 + 2 > 20 && 100 / 7 < 15)",
    "@{ int a = 17, b = 5; return a / b * b + a % b == a ? a << 2 : b >> 1; }",
];

fn opts() -> Options {
    Options {
        now: DateTime::new(2024, 1, 15, 10, 30, 0, 0, Kind::Utc).unwrap_or(DateTime::MIN),
        ..Options::default()
    }
}

fn arith(c: &mut Criterion) {
    let bodies: Vec<_> = ARITH
        .iter()
        .map(|code| turnpike_testkit::compile(code).expect("the arithmetic set compiles"))
        .collect();
    let refs: Vec<_> = bodies.iter().collect();
    let native: Vec<_> = turnpike_jit::compile_batch(&refs)
        .into_iter()
        .map(|r| r.expect("the JIT compiles the arithmetic set"))
        .collect();
    let ctx = Rc::new(Context::default());
    let opts = opts();
    let mut group = c.benchmark_group("arith");
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.bench_function("eval_jit", |b| {
        b.iter(|| {
            for f in &native {
                let _ = black_box(f.run(ctx.clone(), &opts));
            }
        });
    });
    group.bench_function("eval_interp", |b| {
        b.iter(|| {
            for body in &bodies {
                let _ = black_box(run(body, ctx.clone(), opts.clone()));
            }
        });
    });
    group.finish();
}

#[expect(
    clippy::print_stderr,
    reason = "the per-document compile times are reported beside criterion's figures"
)]
fn corpus(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let bodies = turnpike_testkit::compile_corpus(&dir);
    let refs: Vec<_> = bodies.iter().map(|(_, _, b)| b).collect();
    let native = turnpike_jit::compile_batch(&refs);
    let compiled = native.iter().filter(|r| r.is_ok()).count();
    let ctx = Rc::new(turnpike_testkit::sample_context());
    let opts = opts();
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.bench_function(
        format!("eval_jit ({compiled} of {} native)", bodies.len()),
        |b| {
            b.iter(|| {
                for ((_, _, body), n) in bodies.iter().zip(&native) {
                    let _ = black_box(match n {
                        Ok(f) => f.run(ctx.clone(), &opts),
                        Err(_) => run(body, ctx.clone(), opts.clone()),
                    });
                }
            });
        },
    );
    group.bench_function("eval_interp", |b| {
        b.iter(|| {
            for (_, _, body) in &bodies {
                let _ = black_box(run(body, ctx.clone(), opts.clone()));
            }
        });
    });
    group.finish();
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function(format!("jit corpus ({} bodies)", refs.len()), |b| {
        b.iter(|| black_box(turnpike_jit::compile_batch(&refs)));
    });
    // Per document, as the gateway compiles a pipeline: each document's bodies in one batch.
    let mut docs: Vec<(&str, Vec<&turnpike_ir::ir::Body>)> = Vec::new();
    for (file, _, body) in &bodies {
        match docs.last_mut() {
            Some((f, list)) if *f == file.as_str() => list.push(body),
            _ => docs.push((file.as_str(), vec![body])),
        }
    }
    let mut times: Vec<(std::time::Duration, usize)> = docs
        .iter()
        .enumerate()
        .map(|(i, (_, list))| {
            let best = (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    black_box(turnpike_jit::compile_batch(list));
                    t.elapsed()
                })
                .min()
                .unwrap_or_default();
            (best, i)
        })
        .collect();
    times.sort();
    let at = |q: usize| times[(times.len() - 1) * q / 100];
    let size = |q: usize| docs[at(q).1].1.len();
    eprintln!(
        "compile per document ({} documents with expressions, each its bodies in one batch, best of 3): median {:?} ({} bodies), p90 {:?}, max {:?} ({} bodies)",
        times.len(),
        at(50).0,
        size(50),
        at(90).0,
        at(100).0,
        size(100),
    );
    let median_doc = docs[at(50).1].1.clone();
    group.bench_function(
        format!("jit one document ({} bodies, the median)", median_doc.len()),
        |b| b.iter(|| black_box(turnpike_jit::compile_batch(&median_doc))),
    );
    let arith: Vec<_> = ARITH
        .iter()
        .map(|code| turnpike_testkit::compile(code).expect("compiles"))
        .collect();
    let arith_refs: Vec<_> = arith.iter().collect();
    group.bench_function(format!("jit arith set ({} bodies)", arith.len()), |b| {
        b.iter(|| black_box(turnpike_jit::compile_batch(&arith_refs)));
    });
    group.finish();
}

criterion_group!(benches, arith, corpus);
criterion_main!(benches);
