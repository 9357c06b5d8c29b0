//! Every corpus expression that type-checks runs on the interpreter against a realistic
//! context without a panic: it gives a value or a .NET exception.

use std::path::PathBuf;
use std::rc::Rc;

use turnpike_interp::{Options, run};

#[test]
fn corpus_expressions_run_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let bodies = turnpike_testkit::compile_corpus(&dir);
    let codes: Vec<&str> = bodies.iter().map(|(_, c, _)| c.as_str()).collect();
    let vars = turnpike_testkit::variables_read_by(&codes);
    assert!(
        bodies.len() > 500,
        "only {} corpus expressions compile",
        bodies.len()
    );
    let (mut values, mut exceptions, mut unsupported) = (0, 0, 0);
    let mut by_type: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, _, body) in &bodies {
        let ctx = Rc::new(context_with(&vars));
        match run(body, ctx, Options::default()) {
            Ok(_) => values += 1,
            Err(e) if &*e.ty == "NotSupportedException" => {
                unsupported += 1;
                *by_type.entry(e.message.clone()).or_default() += 1;
            }
            Err(e) => {
                exceptions += 1;
                *by_type.entry(e.ty.to_string()).or_default() += 1;
            }
        }
    }
    let mut top: Vec<_> = by_type.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    let report = format!(
        "{} expressions: {values} values, {exceptions} .NET exceptions, {unsupported} not supported yet\n{}",
        bodies.len(),
        top.iter()
            .take(25)
            .map(|(k, n)| format!("  {n:4} {k}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::write(
        std::env::temp_dir().join("turnpike-corpus-eval.txt"),
        &report,
    )
    .ok();
    assert_eq!(values + exceptions + unsupported, bodies.len(), "{report}");
    assert!(values > bodies.len() / 3, "{report}");
}

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
