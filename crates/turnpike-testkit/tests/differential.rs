//! The JIT against its oracle, the interpreter: every conformance expression the JIT compiles,
//! and at least 10,000 random well-typed expressions and `@{ }` blocks per run (the seed is
//! printed; `TURNPIKE_DIFF_SEED=n` replays a run), must give the same value or the same
//! exception on both engines. Also: compiled code is freed when its last user goes.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;

use turnpike_interp::{Context, Exception, Options, Value};
use turnpike_ir::ir::Body;
use yaml_rust2::YamlLoader;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn opts() -> Options {
    Options {
        fuel: 100_000,
        ..Options::default()
    }
}

fn show(r: &Result<Value, Exception>) -> String {
    match r {
        Ok(v) => format!("value {v:?}"),
        Err(e) => format!("exception {}: {}", e.ty, e.message),
    }
}

/// Runs `bodies` on both engines; returns how many the JIT compiled, and every difference.
fn differ(bodies: &[(String, Body)]) -> (usize, Vec<String>) {
    let refs: Vec<&Body> = bodies.iter().map(|(_, b)| b).collect();
    let compiled = turnpike_jit::compile_batch(&refs);
    let mut native = 0;
    let mut diffs = Vec::new();
    for ((code, body), c) in bodies.iter().zip(compiled) {
        let Ok(c) = c else { continue };
        native += 1;
        // One clock reading for both engines.
        let o = opts();
        let jit = c.run(Rc::new(Context::default()), &o);
        let interp = turnpike_interp::run(body, Rc::new(Context::default()), o);
        if !turnpike_testkit::engines_agree(&jit, &interp) {
            diffs.push(format!(
                "{code}\n    jit    {}\n    interp {}",
                show(&jit),
                show(&interp)
            ));
        }
    }
    (native, diffs)
}

#[test]
fn conformance_cases_agree_on_both_engines() {
    let dir = root().join("tests/conformance/expressions");
    let mut bodies = Vec::new();
    let mut all = Vec::new();
    for f in turnpike_testkit::test_files(&dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        let docs = YamlLoader::load_from_str(&text).unwrap();
        for case in docs[0]["cases"].as_vec().into_iter().flatten() {
            let code = match (case["expression"].as_str(), case["block"].as_str()) {
                (Some(e), _) => format!("@({e})"),
                (None, Some(b)) => format!("@{{{b}}}"),
                _ => continue,
            };
            if let Ok(body) = turnpike_testkit::compile(&code) {
                all.push(body);
            }
            // Cases with a `context` run on both engines through the runner below.
            if case["context"].as_hash().is_some() {
                continue;
            }
            if let Ok(body) = turnpike_testkit::compile(&code) {
                bodies.push((code, body));
            }
        }
    }
    let (native, diffs) = differ(&bodies);
    eprintln!(
        "conformance: {native} of {} expression cases without a context compiled natively",
        bodies.len()
    );
    let refs: Vec<&Body> = all.iter().collect();
    let compiled = turnpike_jit::compile_batch(&refs);
    let mut why: std::collections::BTreeMap<String, usize> = Default::default();
    for e in compiled.iter().filter_map(|r| r.as_ref().err()) {
        *why.entry(e.0.clone()).or_default() += 1;
    }
    let mut why: Vec<_> = why.into_iter().collect();
    why.sort_by_key(|w| std::cmp::Reverse(w.1));
    eprintln!(
        "conformance: {} of {} expression cases compiled natively; not yet: {:?}",
        compiled.iter().filter(|r| r.is_ok()).count(),
        all.len(),
        &why[..why.len().min(8)]
    );
    // Every case, contexts included, through the runner's JIT engine (both engines, compared).
    for f in turnpike_testkit::test_files(&dir) {
        for o in turnpike_testkit::run_file(&f, turnpike_testkit::Engine::Jit) {
            assert!(
                o.failure.is_none(),
                "{}: {}",
                o.id,
                o.failure.unwrap_or_default()
            );
        }
    }
    assert!(
        diffs.is_empty(),
        "the engines differ:\n{}",
        diffs.join("\n")
    );
    // The JIT covers the arithmetic, comparison and branching cases; fewer means it regressed.
    assert!(native >= 90, "only {native} cases compiled natively");
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum T {
    Int,
    Long,
    Double,
    Bool,
}

const NAMES: [(&str, T); 8] = [
    ("a", T::Int),
    ("b", T::Int),
    ("c", T::Long),
    ("d", T::Long),
    ("x", T::Double),
    ("y", T::Double),
    ("p", T::Bool),
    ("q", T::Bool),
];

fn literal(r: &mut Rng, t: T) -> String {
    match t {
        T::Int => r
            .pick(&[
                "0",
                "1",
                "-1",
                "2",
                "3",
                "7",
                "-13",
                "255",
                "2147483647",
                "-2147483647 - 1",
                "1000",
            ])
            .to_string(),
        T::Long => r
            .pick(&[
                "0L",
                "1L",
                "-1L",
                "5L",
                "-9L",
                "9223372036854775807L",
                "(-9223372036854775807L - 1)",
                "4294967296L",
            ])
            .to_string(),
        T::Double => r
            .pick(&[
                "0.0", "1.0", "-1.5", "0.1", "2.5", "1e300", "-0.0", "3.75", "1e-300",
            ])
            .to_string(),
        T::Bool => r.pick(&["true", "false"]).to_string(),
    }
}

fn var(r: &mut Rng, t: T) -> &'static str {
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(_, x)| *x == t)
        .map(|(n, _)| *n)
        .collect();
    names[r.below(names.len() as u64) as usize]
}

fn expr(r: &mut Rng, t: T, depth: u32) -> String {
    if depth == 0 || r.below(4) == 0 {
        return if r.below(3) == 0 {
            literal(r, t)
        } else {
            var(r, t).to_string()
        };
    }
    let d = depth - 1;
    match t {
        T::Int | T::Long => match r.below(7) {
            0..=2 => {
                let op = r.pick(&["+", "-", "*", "/", "%", "&", "|", "^"]);
                format!("({} {op} {})", expr(r, t, d), expr(r, t, d))
            }
            3 => {
                let op = r.pick(&["<<", ">>"]);
                format!("({} {op} {})", expr(r, t, d), expr(r, T::Int, d))
            }
            4 => format!(
                "({} ? {} : {})",
                expr(r, T::Bool, d),
                expr(r, t, d),
                expr(r, t, d)
            ),
            5 => {
                let op = r.pick(&["-", "~"]);
                format!("({op}{})", expr(r, t, d))
            }
            _ => {
                let ty = if t == T::Int { "int" } else { "long" };
                let from = match r.below(3) {
                    0 => T::Int,
                    1 => T::Long,
                    _ => T::Double,
                };
                if r.below(4) == 0 {
                    let op = r.pick(&["+", "-", "*"]);
                    format!("checked({} {op} {})", expr(r, t, d), expr(r, t, d))
                } else {
                    format!("(({ty}){})", expr(r, from, d))
                }
            }
        },
        T::Double => match r.below(5) {
            0..=2 => {
                let op = r.pick(&["+", "-", "*", "/", "%"]);
                format!("({} {op} {})", expr(r, t, d), expr(r, t, d))
            }
            3 => {
                let from = if r.below(2) == 0 { T::Int } else { T::Long };
                format!("((double){})", expr(r, from, d))
            }
            _ => format!(
                "({} ? {} : {})",
                expr(r, T::Bool, d),
                expr(r, t, d),
                expr(r, t, d)
            ),
        },
        T::Bool => match r.below(5) {
            0 | 1 => {
                let ty = match r.below(3) {
                    0 => T::Int,
                    1 => T::Long,
                    _ => T::Double,
                };
                let op = r.pick(&["<", "<=", ">", ">=", "==", "!="]);
                format!("({} {op} {})", expr(r, ty, d), expr(r, ty, d))
            }
            2 => {
                let op = r.pick(&["&&", "||", "&", "|", "^", "==", "!="]);
                format!("({} {op} {})", expr(r, t, d), expr(r, t, d))
            }
            3 => format!("(!{})", expr(r, t, d)),
            _ => literal(r, t),
        },
    }
}

fn type_name(t: T) -> &'static str {
    match t {
        T::Int => "int",
        T::Long => "long",
        T::Double => "double",
        T::Bool => "bool",
    }
}

/// What the program returns: a value of a type, or a string (`None`).
type Ret = Option<T>;

fn ret_expr(r: &mut Rng, ret: Ret) -> String {
    match ret {
        Some(t) => expr(r, t, 2),
        None => format!("s + {}", expr(r, T::Int, 1)),
    }
}

fn stmt(r: &mut Rng, out: &mut String, depth: u32, in_loop: bool, ret: Ret) {
    let (name, t) = NAMES[r.below(NAMES.len() as u64) as usize];
    match r.below(if depth == 0 { 4 } else { 10 }) {
        0 | 1 => {
            let _ = write!(out, "{name} = {}; ", expr(r, t, 3));
        }
        3 => {
            // A string local in a frame slot, read and written around the islands below.
            let _ = write!(out, "s = s + {}; ", expr(r, T::Int, 1));
        }
        2 => match t {
            T::Bool => {
                let _ = write!(out, "{name} = !{name}; ");
            }
            _ => {
                let op = r.pick(&["+=", "-=", "*="]);
                let _ = write!(out, "{name} {op} {}; ", expr(r, t, 2));
            }
        },
        4 => {
            let _ = write!(out, "if ({}) {{ ", expr(r, T::Bool, 2));
            stmt(r, out, depth - 1, in_loop, ret);
            out.push_str("} else { ");
            stmt(r, out, depth - 1, in_loop, ret);
            out.push_str("} ");
        }
        5 => {
            let n = r.below(20);
            let _ = write!(
                out,
                "for (int i{depth} = 0; i{depth} < {n}; i{depth}++) {{ "
            );
            stmt(r, out, depth - 1, true, ret);
            stmt(r, out, depth - 1, true, ret);
            out.push_str("} ");
        }
        // Forms native code hands to the interpreter (islands), with the locals synced both
        // ways and `continue` reaching the enclosing native loop.
        6 => {
            let _ = write!(out, "switch ((a & 3)) {{ case 0: ");
            stmt(r, out, depth - 1, in_loop, ret);
            out.push_str("break; case 1: a = s.Length; ");
            if r.below(3) == 0 {
                let _ = write!(out, "if (b > a) {{ return {}; }} ", ret_expr(r, ret));
            }
            if in_loop {
                out.push_str(r.pick(&["continue; ", "break; "]));
            } else {
                out.push_str("break; ");
            }
            out.push_str("default: ");
            stmt(r, out, depth - 1, in_loop, ret);
            out.push_str("break; } ");
        }
        7 => {
            out.push_str("try { ");
            if r.below(3) == 0 {
                let _ = write!(
                    out,
                    "if ({}) {{ return {}; }} ",
                    expr(r, T::Bool, 1),
                    ret_expr(r, ret)
                );
            }
            stmt(r, out, depth - 1, in_loop, ret);
            let _ = write!(
                out,
                "b = b / (a - a); }} catch (DivideByZeroException) {{ s = s + \"!\"; {name} = {}; }} ",
                expr(r, t, 2)
            );
        }
        8 => {
            let _ = write!(out, "foreach (var e{depth} in new [] {{ a, b, 3 }}) {{ ");
            let _ = write!(out, "a = a + e{depth}; ");
            stmt(r, out, depth - 1, true, ret);
            out.push_str("} ");
        }
        _ if in_loop => {
            let _ = write!(
                out,
                "if ({}) {{ {} }} ",
                expr(r, T::Bool, 2),
                r.pick(&["break;", "continue;"])
            );
        }
        _ => {
            let _ = write!(
                out,
                "while ({name} {} ) {{ break; }} ",
                if t == T::Bool { "" } else { "!= default" }
            );
        }
    }
}

fn program(r: &mut Rng) -> String {
    let t = [T::Int, T::Long, T::Double, T::Bool][r.below(4) as usize];
    if r.below(3) == 0 {
        // An expression over literals only (the checker folds what it can).
        let mut e = expr(r, t, 3);
        for (n, nt) in NAMES {
            let lit = literal(r, nt);
            e = e.replace(&format!("({n} "), &format!("({lit} "));
        }
        if NAMES.iter().all(|(n, _)| !e.contains(n)) {
            return format!("@({e})");
        }
    }
    let mut s = String::from("@{ string s = \"k\"; ");
    for (n, nt) in NAMES {
        let _ = write!(s, "{} {n} = {}; ", type_name(nt), literal(r, nt));
    }
    let ret = if r.below(4) == 0 { None } else { Some(t) };
    for _ in 0..r.below(4) + 1 {
        stmt(r, &mut s, 2, false, ret);
    }
    match ret {
        None => {
            let _ = write!(s, "return s + {}; }}", expr(r, t, 2));
        }
        Some(t) => {
            let _ = write!(s, "return {}; }}", expr(r, t, 4));
        }
    }
    s
}

#[test]
fn random_programs_agree_on_both_engines() {
    let seed = std::env::var("TURNPIKE_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("random programs: seed {seed} (TURNPIKE_DIFF_SEED={seed} replays this run)");
    let mut r = Rng(seed);
    let (mut generated, mut checked, mut native) = (0, 0, 0);
    let mut diffs = Vec::new();
    while native < 10_000 && generated < 40_000 {
        let mut batch = Vec::new();
        for _ in 0..500 {
            let code = program(&mut r);
            generated += 1;
            // Programs the checker rejects (constant overflow, division by a constant zero)
            // are not compared.
            if let Ok(body) = turnpike_testkit::compile(&code) {
                batch.push((code, body));
            }
        }
        checked += batch.len();
        let (n, d) = differ(&batch);
        native += n;
        diffs.extend(d);
    }
    eprintln!(
        "random programs: {generated} generated, {checked} type-checked, {native} compiled natively and compared"
    );
    assert!(
        diffs.is_empty(),
        "seed {seed}: the engines differ:\n{}",
        diffs.join("\n")
    );
    assert!(
        native >= 10_000,
        "seed {seed}: only {native} programs compiled natively"
    );
}

fn churn(cycles: usize) {
    let body = turnpike_testkit::compile(
        "@{ long s = 0; for (int i = 0; i < 100; i++) { s += i * 3L; } return s; }",
    )
    .unwrap();
    let base = turnpike_jit::live_code_bytes();
    for _ in 0..cycles {
        let c = turnpike_jit::compile(&body).unwrap();
        assert!(turnpike_jit::live_code_bytes() > base);
        assert!(matches!(
            c.run(Rc::new(Context::default()), &opts()),
            Ok(Value::Long(14_850))
        ));
        drop(c);
        assert_eq!(turnpike_jit::live_code_bytes(), base);
    }
}

#[test]
fn compiled_code_is_freed_with_its_last_user() {
    churn(1_000);
}

#[test]
#[ignore = "soak: 10,000 compile-and-drop cycles"]
fn compiled_code_is_freed_soak() {
    churn(10_000);
}

#[test]
fn corpus_expressions_agree_on_both_engines() {
    let dir = root().join("../shared/corpus");
    let bodies = turnpike_testkit::compile_corpus(&dir);
    assert!(!bodies.is_empty(), "no corpus at {}", dir.display());
    let codes: Vec<&str> = bodies.iter().map(|(_, c, _)| c.as_str()).collect();
    let vars = turnpike_testkit::variables_read_by(&codes);
    let refs: Vec<&Body> = bodies.iter().map(|(_, _, b)| b).collect();
    let compiled = turnpike_jit::compile_batch(&refs);
    let mut why: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut native, mut diffs) = (0, Vec::new());
    for ((file, code, body), c) in bodies.iter().zip(&compiled) {
        let c = match c {
            Ok(c) => c,
            Err(e) => {
                *why.entry(e.0.clone()).or_default() += 1;
                continue;
            }
        };
        native += 1;
        // A fresh context per engine: an expression may change variables it holds.
        let context = || {
            let ctx = turnpike_testkit::sample_context();
            {
                let mut v = ctx.variables.borrow_mut();
                for (k, val) in &vars {
                    v.set(Value::str(k), val.clone());
                }
            }
            Rc::new(ctx)
        };
        let o = opts();
        let jit = c.run(context(), &o);
        let interp = turnpike_interp::run(body, context(), o);
        if !turnpike_testkit::engines_agree(&jit, &interp) {
            diffs.push(format!(
                "{file}: {code}\n    jit    {}\n    interp {}",
                show(&jit),
                show(&interp)
            ));
        }
    }
    let mut why: Vec<_> = why.into_iter().collect();
    why.sort_by_key(|w| std::cmp::Reverse(w.1));
    eprintln!(
        "corpus: {native} of {} expressions compiled natively; not yet: {:?}",
        bodies.len(),
        &why[..why.len().min(8)]
    );
    assert!(
        diffs.is_empty(),
        "the engines differ:\n{}",
        diffs.join("\n")
    );
}

/// Lambdas reach the body's locals through the interpreter's frame: the locals native code
/// holds must be there when a library call invokes the lambda, and what the lambda wrote must
/// come back; a deferred sequence returned from the body runs before the frame goes.
#[test]
fn lambdas_see_and_change_the_locals_of_native_code() {
    let programs = [
        "@{ int n = 2; int k = 0; for (int i = 0; i < 5; i++) { n = n + 1; k = k + new [] { 1, 2, 3, 4, 5, 6 }.Count(v => v > n); } return k; }",
        "@{ int total = 0; var xs = new [] { 3, 4, 5 }; foreach (var x in xs) { total += x; } Func<int, int> add = v => { total = total + v; return total; }; int a = add(10); return a * 100 + total; }",
        "@{ int lim = 1; var q = new [] { 1, 2, 3, 4 }.Where(v => v > lim); lim = 3; return q.Count(); }",
        "@{ int lim = 2; var q = new [] { 5, 1, 7, 2 }.Where(v => v > lim); lim = 4; return q; }",
        "@{ string s = \"ab\"; int m = 0; for (int i = 0; i < 3; i++) { s = s + i; m = m + s.ToCharArray().Count(c => c != 'a'); } return s + m; }",
        "@{ long acc = 1; var xs = new [] { 1, 2, 3 }.Select(v => v * acc); acc = 10; long sum = 0; foreach (var x in xs) { sum += x; } return sum; }",
    ];
    let bodies: Vec<(String, Body)> = programs
        .iter()
        .map(|p| {
            let body = turnpike_testkit::compile(p)
                .unwrap_or_else(|d| panic!("{p} does not compile: {d:?}"));
            ((*p).to_string(), body)
        })
        .collect();
    let (native, diffs) = differ(&bodies);
    assert_eq!(native, programs.len(), "every program compiles natively");
    assert!(
        diffs.is_empty(),
        "the engines differ:\n{}",
        diffs.join("\n")
    );
}
