//! Test files: `*.test.yaml` with a top-level `cases:` list (format in `spec/10-test-files.md`).
//!
//! A case's code is parsed, type-checked and lowered exactly as a policy expression is, then
//! run by an engine against the case's `context`. The result is compared with the expected
//! `value` and `type` (written as the .NET oracle writes them) or `exception`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use turnpike_diagnostics::Diagnostic;
use turnpike_interp::context::{Context, Headers, Message, Url};
use turnpike_interp::dotnet::datetime::{DateTime, Kind};
use turnpike_interp::value::{Obj, Value};
use turnpike_interp::{Exception, Options};
use turnpike_ir::Ty;
use turnpike_ir::ir::Body;
use turnpike_syntax::offsets::OffsetMap;
use turnpike_syntax::parser::parse_code;
use turnpike_syntax::scan::csharp::code_extent;
use turnpike_syntax::tree::ExprBody;
use yaml_rust2::{Yaml, YamlLoader};

mod policy;

/// Which engine runs the cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter.
    Interp,
    /// Native code from the JIT, checked against the interpreter: a case the JIT compiles
    /// runs on both engines and fails on any difference. A case it does not compile yet runs
    /// on the interpreter.
    Jit,
}

/// One case's outcome.
#[derive(Debug)]
pub struct Outcome {
    /// `file::name`.
    pub id: String,
    /// `None` when it passed; otherwise what went wrong.
    pub failure: Option<String>,
}

/// Every test file below a path (or the file itself).
pub fn test_files(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(path, &mut out);
    out.sort();
    out
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.to_string_lossy().ends_with(".test.yaml") {
            out.push(path.to_path_buf());
        }
        return;
    }
    let Ok(rd) = std::fs::read_dir(path) else {
        return;
    };
    for e in rd.flatten() {
        collect(&e.path(), out);
    }
}

/// Runs every case of a file.
pub fn run_file(path: &Path, engine: Engine) -> Vec<Outcome> {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![Outcome {
                id: file,
                failure: Some(format!("cannot read the file: {e}")),
            }];
        }
    };
    let docs = match YamlLoader::load_from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            return vec![Outcome {
                id: file,
                failure: Some(format!("not YAML: {e}")),
            }];
        }
    };
    let Some(cases) = docs.first().and_then(|d| d["cases"].as_vec()) else {
        return vec![Outcome {
            id: file,
            failure: Some("the file has no `cases:` list".into()),
        }];
    };
    cases
        .iter()
        .map(|case| {
            let name = case["name"].as_str().unwrap_or("?");
            let dir = path.parent().unwrap_or(Path::new("."));
            let failure = if !case["policy"].is_badvalue()
                || !case["policy-file"].is_badvalue()
                || !case["artifacts"].is_badvalue()
            {
                policy::run_policy_case(case, dir, engine).err()
            } else {
                run_case(case, engine).err()
            };
            Outcome {
                id: format!("{file}::{name}"),
                failure,
            }
        })
        .collect()
}

/// Compiles a case's code: `@( )` for `expression`, `@{ }` for `block`.
pub fn compile(code: &str) -> Result<Body, Vec<Diagnostic>> {
    let map = OffsetMap::identity(0, code.len());
    let (body, mut diags) = parse_code(Default::default(), code, &map, code_extent(code));
    let Some(body) = body else {
        return Err(diags);
    };
    let checked = turnpike_typeck::check(&body);
    diags.extend(checked.diagnostics);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    let _ = ExprBody::Expr;
    Ok(checked.body)
}

fn run_case(case: &Yaml, engine: Engine) -> Result<(), String> {
    let code = match (case["expression"].as_str(), case["block"].as_str()) {
        (Some(e), _) => format!("@({e})"),
        (None, Some(b)) => format!("@{{{b}}}"),
        _ => return Err("the case has neither `expression` nor `block`".into()),
    };
    let body = compile(&code).map_err(|diags| {
        let mut s = String::from("does not compile:");
        for d in diags.iter().filter(|d| d.is_error()) {
            let _ = write!(s, "\n    {} [{}]", d.message, d.code.name);
        }
        s
    })?;
    let ctx = Rc::new(context_of(&case["context"]));
    let opts = Options {
        now: DateTime::new(2024, 1, 15, 10, 30, 0, 0, Kind::Utc).unwrap_or(DateTime::MIN),
        ..Options::default()
    };
    if engine == Engine::Jit
        && let Ok(native) = turnpike_jit::compile(&body)
    {
        let jit = native.run(ctx.clone(), &opts);
        let interp = turnpike_interp::run(&body, ctx, opts);
        if !engines_agree(&jit, &interp) {
            return Err(format!(
                "the engines differ\n    jit    {}\n    interp {}",
                outcome_text(&jit),
                outcome_text(&interp)
            ));
        }
        return compare(case, jit);
    }
    let result = turnpike_interp::run(&body, ctx, opts);
    compare(case, result)
}

fn context_of(y: &Yaml) -> Context {
    let mut ctx = Context::default();
    if let Some(vars) = y["variables"].as_hash() {
        let mut d = ctx.variables.borrow_mut();
        for (k, v) in vars {
            if let Some(k) = scalar_text(k) {
                d.set(Value::str(k), yaml_value(v));
            }
        }
    }
    if let Some(h) = y["headers"].as_hash() {
        let mut headers = Vec::new();
        for (k, v) in h {
            let name = scalar_text(k).unwrap_or_default();
            let values = match v {
                Yaml::Array(a) => a.iter().filter_map(scalar_text).collect(),
                other => scalar_text(other).into_iter().collect(),
            };
            headers.push((name, values));
        }
        ctx.request.headers = Headers(headers.into());
    }
    if let Some(u) = y["url"].as_str() {
        ctx.url = Url::parse(u).into();
        ctx.original_url = ctx.url.clone();
    }
    if let Some(m) = y["method"].as_str() {
        ctx.method = m.to_string();
    }
    if let Some(b) = y["body"].as_str() {
        ctx.request = Message {
            body: Some(b.to_string()),
            ..ctx.request
        };
    }
    ctx
}

pub(crate) fn scalar_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn yaml_value(y: &Yaml) -> Value {
    match y {
        Yaml::Integer(i) => i32::try_from(*i).map_or(Value::Long(*i), Value::Int),
        Yaml::Real(s) => s.parse().map_or(Value::Null, Value::Double),
        Yaml::String(s) => Value::str(s),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// Whether the JIT and the interpreter gave the same outcome: scalars as
/// [`turnpike_jit::same_outcome`] compares them, arrays, collections and objects by their
/// printed contents (two engines never share an object).
pub fn engines_agree(a: &Result<Value, Exception>, b: &Result<Value, Exception>) -> bool {
    match (a, b) {
        (Ok(x @ (Value::Array(_) | Value::Obj(_))), Ok(y @ (Value::Array(_) | Value::Obj(_)))) => {
            show(x) == show(y)
        }
        _ => turnpike_jit::same_outcome(a, b),
    }
}

fn outcome_text(r: &Result<Value, Exception>) -> String {
    match r {
        Ok(v) => format!("value {}", show(v)),
        Err(e) => format!("exception {}: {}", e.ty, e.message),
    }
}

fn compare(case: &Yaml, result: Result<Value, Exception>) -> Result<(), String> {
    if let Some(exc) = case["exception"].as_str() {
        return match result {
            Err(e) if &*e.ty == exc => Ok(()),
            Err(e) => Err(format!(
                "expected exception {exc}\n    actual exception {}: {}",
                e.ty, e.message
            )),
            Ok(v) => Err(format!(
                "expected exception {exc}\n    actual value {}",
                show(&v)
            )),
        };
    }
    let v = match result {
        Ok(v) => v,
        Err(e) => {
            return Err(format!(
                "expected value {}\n    actual exception {}: {}",
                yaml_show(&case["value"]),
                e.ty,
                e.message
            ));
        }
    };
    let expected = &case["value"];
    if !value_matches(expected, &v) {
        return Err(format!(
            "expected value {}\n    actual value   {}",
            yaml_show(expected),
            show(&v)
        ));
    }
    if let Some(t) = case["type"].as_str() {
        let actual = type_name(&v);
        if !actual.is_empty() && actual != t {
            return Err(format!(
                "expected type {t}\n    actual type   {actual} (value {})",
                show(&v)
            ));
        }
    }
    Ok(())
}

fn yaml_show(y: &Yaml) -> String {
    match y {
        Yaml::Array(a) => format!(
            "[{}]",
            a.iter().map(yaml_show).collect::<Vec<_>>().join(", ")
        ),
        Yaml::Null | Yaml::BadValue => "null".into(),
        other => format!("{:?}", scalar_text(other).unwrap_or_default()),
    }
}

/// The value as the oracle writes it.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Array(_) | Value::Obj(_) if items(v).is_some() => {
            format!(
                "[{}]",
                items(v)
                    .unwrap_or_default()
                    .iter()
                    .map(show)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => format!("{:?}", text(other)),
    }
}

fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.items.borrow().clone()),
        Value::Obj(o) => match &**o {
            Obj::List(_, i) | Obj::Set(_, i, _) => Some(i.borrow().clone()),
            Obj::Seq(_, i) => Some(i.clone()),
            Obj::Dict(_, _, d) => Some(
                d.borrow()
                    .pairs()
                    .into_iter()
                    .map(|(k, v)| Value::Pair(Rc::new((k.clone(), v.clone()))))
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// `ToString()` of a scalar, with the interpreter's formatting (doubles in round-trip form).
fn text(v: &Value) -> String {
    use turnpike_interp::dotnet::number;
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Double(d) => number::format_double(*d, "R").unwrap_or_default(),
        Value::Float(f) => number::format_float(*f, "R").unwrap_or_default(),
        Value::Pair(p) => format!("[{}, {}]", text(&p.0), text(&p.1)),
        other => {
            let lib = turnpike_ir::Library::get();
            let ctx = Rc::new(Context::default());
            turnpike_interp::eval::to_string_outside(lib, ctx, other)
        }
    }
}

fn value_matches(expected: &Yaml, v: &Value) -> bool {
    match expected {
        Yaml::Null | Yaml::BadValue => v.is_null(),
        Yaml::Array(exp) => match items(v) {
            Some(act) => {
                act.len() == exp.len() && exp.iter().zip(&act).all(|(e, a)| value_matches(e, a))
            }
            None => false,
        },
        Yaml::Boolean(b) => matches!(v, Value::Bool(x) if x == b),
        Yaml::Real(s) if matches!(v, Value::Double(_) | Value::Float(_)) => {
            let e = match s.as_str() {
                ".inf" | "+.inf" => f64::INFINITY,
                "-.inf" => f64::NEG_INFINITY,
                ".nan" => f64::NAN,
                s => s.parse().unwrap_or(f64::NAN),
            };
            let a = match v {
                Value::Double(d) => *d,
                Value::Float(f) => f64::from(*f),
                _ => f64::NAN,
            };
            if let Value::Float(f) = v {
                return (e as f32 == *f) || (e.is_nan() && f.is_nan());
            }
            e == a && e.is_sign_negative() == a.is_sign_negative() || (e.is_nan() && a.is_nan())
        }
        Yaml::Integer(i) if matches!(v, Value::Double(_)) => {
            matches!(v, Value::Double(d) if *d == *i as f64)
        }
        other => match scalar_text(other) {
            Some(s) => s == text(v) && !v.is_null(),
            None => false,
        },
    }
}

/// The runtime type's C# name as the oracle writes it (`int`, `string[]`, `List<int>`).
fn type_name(v: &Value) -> String {
    let lib = turnpike_ir::Library::get();
    if let Some(p) = v.prim() {
        return p.keyword().to_string();
    }
    match v {
        Value::Null => "null".into(),
        Value::Str(_) => "string".into(),
        Value::Array(a) => format!("{}[]", a.elem.display(lib)),
        Value::Enum(id, _) => lib.ty(*id).name.clone(),
        Value::DateTime(_) => "DateTime".into(),
        Value::TimeSpan(_) => "TimeSpan".into(),
        Value::DateTimeOffset(_) => "DateTimeOffset".into(),
        Value::Guid(_) => "Guid".into(),
        Value::Obj(o) => match &**o {
            Obj::List(t, _) => format!("List<{}>", t.display(lib)),
            Obj::Dict(k, v, _) => format!("Dictionary<{}, {}>", k.display(lib), v.display(lib)),
            Obj::Set(t, _, _) => format!("HashSet<{}>", t.display(lib)),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// The type display of a `Ty` (re-exported for callers that print IR).
pub fn ty_text(t: &Ty) -> String {
    t.display(turnpike_ir::Library::get()).to_string()
}

/// A realistic request `context` for smoke tests and benchmarks: a JSON POST with the headers,
/// query, variables, subscription, user, product and API a gateway would fill in.
pub fn sample_context() -> Context {
    use turnpike_interp::context::Named;
    let mut ctx = Context::default();
    ctx.method = "POST".into();
    ctx.url = Url::parse(
        "https://api.contoso.com/orders/v1/orders/42?expand=items&api-version=2024-01-01",
    )
    .into();
    ctx.original_url = ctx.url.clone();
    ctx.ip_address = "203.0.113.7".into();
    ctx.matched_parameters = vec![("orderId".into(), "42".into())];
    let headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        (
            "Authorization",
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2ln",
        ),
        (
            "Ocp-Apim-Subscription-Key",
            "0123456789abcdef0123456789abcdef",
        ),
        ("User-Agent", "curl/8.5.0"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("Cache-Control", "public, max-age=600"),
        ("X-Correlation-Id", "5b4f2f0e-1d2c-4b8a-9d3e-7c6f5a4b3c2d"),
    ];
    ctx.request = Message {
        headers: Headers(
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
                .collect::<Vec<_>>()
                .into(),
        ),
        body: Some(r#"{"id":42,"items":[{"sku":"A-1","qty":2}],"customer":{"name":"Ada"}}"#.into()),
        status: 0,
        reason: String::new(),
    };
    ctx.response = Message {
        headers: Headers(vec![("Content-Type".into(), vec!["application/json".into()])].into()),
        body: Some(r#"{"status":"ok"}"#.into()),
        status: 200,
        reason: "OK".into(),
    };
    let named = |pairs: &[(&str, Value)]| Named {
        props: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    ctx.api = Some(named(&[
        ("Id", Value::str("orders")),
        ("Name", Value::str("Orders")),
        ("Path", Value::str("orders/v1")),
        ("Version", Value::str("v1")),
        ("Revision", Value::str("1")),
    ]));
    ctx.operation = Some(named(&[
        ("Id", Value::str("create-order")),
        ("Name", Value::str("Create order")),
        ("Method", Value::str("POST")),
        ("UrlTemplate", Value::str("/orders/{orderId}")),
    ]));
    ctx.product = Some(named(&[
        ("Id", Value::str("starter")),
        ("Name", Value::str("Starter")),
    ]));
    ctx.subscription = Some(named(&[
        ("Id", Value::str("sub-1")),
        ("Name", Value::str("Ada's key")),
        ("Key", Value::str("0123456789abcdef0123456789abcdef")),
        ("PrimaryKey", Value::str("0123456789abcdef0123456789abcdef")),
    ]));
    ctx.user = Some(named(&[
        ("Id", Value::str("ada")),
        ("Email", Value::str("ada@example.com")),
        ("FirstName", Value::str("Ada")),
        ("LastName", Value::str("Lovelace")),
    ]));
    ctx.deployment = named(&[
        ("Region", Value::str("West Europe")),
        ("ServiceName", Value::str("contoso-apim")),
        ("GatewayId", Value::str("self-hosted")),
        (
            "Gateway",
            Value::obj(Obj::Host(turnpike_interp::context::HostRef::Named(
                Rc::new(named(&[("Id", Value::str("self-hosted"))])),
            ))),
        ),
    ]);
    ctx.request_id = 0x5b4f_2f0e_1d2c_4b8a_9d3e_7c6f_5a4b_3c2d;
    {
        let mut v = ctx.variables.borrow_mut();
        for (k, val) in [
            ("requestBody", Value::str(r#"{"id":42}"#)),
            ("userId", Value::str("ada")),
            ("tier", Value::str("gold")),
            ("count", Value::Int(3)),
            ("isAuthorized", Value::Bool(true)),
        ] {
            v.set(Value::str(k), val);
        }
    }
    ctx
}

/// Every corpus expression that type-checks, compiled: `(file, code, body)`.
pub fn compile_corpus(dir: &Path) -> Vec<(String, String, Body)> {
    let mut out = Vec::new();
    let Ok(files) = turnpike_syntax::files::policy_files(dir) else {
        return out;
    };
    let mut map = turnpike_diagnostics::SourceMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let id = map.add(f.display().to_string(), text.as_str());
        let (doc, _) = turnpike_syntax::parse_document(id, &text);
        for e in doc.expressions() {
            let Some(body) = &e.body else { continue };
            let checked = turnpike_typeck::check(body);
            if !checked.has_errors() {
                out.push((f.display().to_string(), e.code.clone(), checked.body));
            }
        }
    }
    out
}

/// Variables the expressions read (`context.Variables["x"]`, `GetValueOrDefault<T>("x")`),
/// with values of the type each read expects, as earlier `set-variable` policies would have
/// stored them.
pub fn variables_read_by(codes: &[&str]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for code in codes {
        let mut rest = *code;
        while let Some(i) = rest.find("Variables") {
            let tail = &rest[i + "Variables".len()..];
            let before = &rest[..i];
            let (name, ty) = if let Some(t) = tail.strip_prefix("[\"") {
                let name = t.split('"').next().unwrap_or_default();
                let cast = before
                    .trim_end_matches("context.")
                    .rsplit('(')
                    .next()
                    .unwrap_or_default();
                (name, cast.split(')').next().unwrap_or_default().to_string())
            } else if let Some(t) = tail.strip_prefix(".GetValueOrDefault<") {
                let ty = t.split('>').next().unwrap_or_default();
                let name = t.split('"').nth(1).unwrap_or_default();
                (name, ty.to_string())
            } else if let Some(t) = tail.strip_prefix(".GetValueOrDefault(\"") {
                (t.split('"').next().unwrap_or_default(), String::new())
            } else {
                ("", String::new())
            };
            if !name.is_empty() && !out.iter().any(|(n, _)| n == name) {
                let v = match ty.as_str() {
                    "int" => Value::Int(1),
                    "long" => Value::Long(1),
                    "bool" => Value::Bool(true),
                    "double" => Value::Double(1.5),
                    "DateTime" => Value::DateTime(
                        DateTime::new(2024, 1, 15, 10, 0, 0, 0, Kind::Utc).unwrap_or(DateTime::MIN),
                    ),
                    _ => Value::str("value"),
                };
                out.push((name.to_string(), v));
            }
            rest = tail;
        }
    }
    out
}
