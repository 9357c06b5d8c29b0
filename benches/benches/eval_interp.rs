//! `eval_interp`: the reference interpreter over every corpus expression that type-checks,
//! each compiled once and evaluated against a realistic request context. Throughput is
//! expressions per second; criterion's time per iteration divided by the count is the mean
//! time per expression. The context is built once (as the gateway builds it once per request)
//! and shared.

use std::hint::black_box;
use std::path::PathBuf;
use std::rc::Rc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use turnpike_interp::dotnet::datetime::{DateTime, Kind};
use turnpike_interp::{Options, run};

fn eval_interp(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let bodies = turnpike_testkit::compile_corpus(&dir);
    let codes: Vec<&str> = bodies.iter().map(|(_, c, _)| c.as_str()).collect();
    let vars = turnpike_testkit::variables_read_by(&codes);
    assert!(
        !bodies.is_empty(),
        "no corpus expressions at {}",
        dir.display()
    );
    let opts = Options {
        now: DateTime::new(2024, 1, 15, 10, 30, 0, 0, Kind::Utc).unwrap_or(DateTime::MIN),
        ..Options::default()
    };
    // One request context shared by every evaluation: expressions cannot change `context`.
    let ctx = Rc::new(context_with(&vars));
    let mut group = c.benchmark_group("eval_interp");
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.bench_function(format!("corpus ({} expressions)", bodies.len()), |b| {
        b.iter(|| {
            for (_, _, body) in &bodies {
                let _ = black_box(run(body, ctx.clone(), opts.clone()));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, eval_interp);
criterion_main!(benches);

/// The sample context with the variables the corpus reads.
fn context_with(vars: &[(String, turnpike_interp::Value)]) -> turnpike_interp::Context {
    let ctx = turnpike_testkit::sample_context();
    {
        let mut v = ctx.variables.borrow_mut();
        for (k, val) in vars {
            v.set(turnpike_interp::Value::str(k), val.clone());
        }
    }
    ctx
}
