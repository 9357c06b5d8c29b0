//! Policy unit tests: a whole policy document run on a request with a mocked backend, then
//! checked against `expect` (format in `spec/10-test-files.md`).

use std::fmt::Write as _;
use std::path::Path;

use turnpike_diagnostics::{Diagnostic, SourceMap};
use turnpike_interp::Options;
use turnpike_interp::dotnet::datetime::{DateTime, Kind};
use turnpike_pipeline::run::{
    Backend, BackendError, BackendFuture, BackendRequest, BackendResponse,
};
use turnpike_pipeline::state::{HttpMessage, RequestState, Stored};
use yaml_rust2::Yaml;

use crate::{Engine, scalar_text, yaml_value};
use turnpike_pipeline::compile::Pipeline;

/// The backend a case describes: one canned answer for every call.
struct MockBackend {
    answer: Result<BackendResponse, BackendError>,
}

impl Backend for MockBackend {
    fn send<'a>(&'a self, _req: BackendRequest<'a>) -> BackendFuture<'a> {
        let a = self.answer.clone();
        Box::pin(async move { a })
    }
}

fn headers(y: &Yaml) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(h) = y.as_hash() {
        for (k, v) in h {
            let name = scalar_text(k).unwrap_or_default();
            let values = match v {
                Yaml::Array(a) => a.iter().filter_map(scalar_text).collect(),
                other => scalar_text(other).into_iter().collect(),
            };
            out.push((name, values));
        }
    }
    out
}

fn named(y: &Yaml) -> Option<Vec<(String, Stored)>> {
    let h = y.as_hash()?;
    Some(
        h.iter()
            .map(|(k, v)| {
                (
                    scalar_text(k).unwrap_or_default(),
                    Stored::from_value(&yaml_value(v)),
                )
            })
            .collect(),
    )
}

/// Builds the request state a case describes.
fn state_of(case: &Yaml) -> RequestState {
    let req = &case["request"];
    let method = req["method"].as_str().unwrap_or("GET");
    let url = req["url"].as_str().unwrap_or("https://api.example.com/");
    let mut st = RequestState::new(method, url);
    st.request = HttpMessage {
        headers: headers(&req["headers"]).into(),
        body: req["body"].as_str().map(str::to_string),
    };
    if let Some(ip) = req["ip"].as_str() {
        st.ip = ip.to_string();
    }
    if let Some(b) = case["context"]["backends"].as_hash() {
        st.backends = b
            .iter()
            .map(|(k, v)| {
                (
                    scalar_text(k).unwrap_or_default(),
                    scalar_text(v).unwrap_or_default(),
                )
            })
            .collect();
    }
    let ctx = &case["context"];
    if let Some(ip) = ctx["ip"].as_str() {
        st.ip = ip.to_string();
    }
    if let Some(vars) = ctx["variables"].as_hash() {
        for (k, v) in vars {
            st.set_variable(
                &scalar_text(k).unwrap_or_default(),
                Stored::from_value(&yaml_value(v)),
            );
        }
    }
    if let Some(m) = ctx["matched"].as_hash() {
        st.matched = m
            .iter()
            .map(|(k, v)| {
                (
                    scalar_text(k).unwrap_or_default(),
                    scalar_text(v).unwrap_or_default(),
                )
            })
            .collect();
    }
    st.api = named(&ctx["api"]);
    st.operation = named(&ctx["operation"]);
    st.product = named(&ctx["product"]);
    st.subscription = named(&ctx["subscription"]);
    st.user = named(&ctx["user"]);
    if let Some(groups) = ctx["groups"].as_vec() {
        // `context.User.Groups`: each group a name, or a mapping of `Id` and `Name`.
        let list = groups
            .iter()
            .map(|g| match g.as_hash() {
                Some(_) => Stored::Named(named(g).unwrap_or_default()),
                None => {
                    let n = scalar_text(g).unwrap_or_default();
                    Stored::Named(vec![
                        ("Id".into(), Stored::Str(n.clone())),
                        ("Name".into(), Stored::Str(n)),
                    ])
                }
            })
            .collect();
        st.user
            .get_or_insert_with(Vec::new)
            .push(("Groups".into(), Stored::List(list)));
    }
    if let Some(ex) = ctx["example"].as_str() {
        st.set_variable("$mock-example", Stored::Str(ex.to_string()));
    }
    st.now = case["now"]
        .as_str()
        .and_then(|t| DateTime::parse(t).ok())
        .map(|d| DateTime {
            ticks: d.ticks,
            kind: Kind::Utc,
        })
        .unwrap_or_else(|| {
            DateTime::new(2024, 1, 15, 10, 30, 0, 0, Kind::Utc).unwrap_or(DateTime::MIN)
        });
    st.request_id = 0x0000_0000_0000_4000_8000_0000_0000_0001;
    st
}

fn backend_of(case: &Yaml) -> MockBackend {
    let b = &case["backend"];
    let answer = match b["error"].as_str() {
        Some("timeout") => Err(BackendError::Timeout),
        Some(_) => Err(BackendError::Connection(
            "The connection was refused.".into(),
        )),
        None => Ok(BackendResponse {
            status: b["status"].as_i64().unwrap_or(200) as i32,
            reason: b["reason"].as_str().unwrap_or_default().to_string(),
            message: HttpMessage {
                headers: headers(&b["headers"]).into(),
                body: b["body"].as_str().map(str::to_string),
            },
        }),
    };
    MockBackend { answer }
}

/// Runs one policy case.
pub(crate) fn run_policy_case(case: &Yaml, dir: &Path, engine: Engine) -> Result<(), String> {
    if let Some(folder) = case["artifacts"].as_str() {
        return run_artifact_case(case, &dir.join(folder), engine);
    }
    let (name, text) = match (case["policy"].as_str(), case["policy-file"].as_str()) {
        (Some(p), _) => ("policy".to_string(), p.to_string()),
        (None, Some(f)) => {
            let path = dir.join(f);
            let t = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            (path.display().to_string(), t)
        }
        _ => return Err("the case has neither `policy` nor `policy-file`".into()),
    };
    let mut sources = SourceMap::new();
    let id = sources.add(name, text.as_str());
    let (doc, mut diags) = turnpike_syntax::parse_document(id, &text);
    let (pipeline, compile_diags) = turnpike_pipeline::compile_document(&doc);
    diags.extend(compile_diags);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let mut s = String::from("the policy does not compile:");
        for d in errors {
            let _ = write!(s, "\n    {} [{}]", d.message, d.code.name);
        }
        return Err(s);
    }
    let st = run_on(&pipeline, engine, || state_of(case), &backend_of(case))?;
    compare(&case["expect"], &st)
}

/// Runs a pipeline on a fresh request state. With [`Engine::Jit`] it runs twice, on the
/// interpreter and with the JIT's native code, and fails on any difference in the final
/// state (status, headers, body, variables, everything the policy changed).
fn run_on(
    pipeline: &Pipeline,
    engine: Engine,
    state: impl Fn() -> RequestState,
    backend: &MockBackend,
) -> Result<RequestState, String> {
    let run = |p: &Pipeline| {
        let mut st = state();
        let opts = Options {
            now: st.now,
            ..Options::default()
        };
        turnpike_pipeline::block_on(turnpike_pipeline::run(p, &mut st, backend, &opts));
        st
    };
    let interp = run(pipeline);
    if engine == Engine::Interp {
        return Ok(interp);
    }
    let mut native = pipeline.clone();
    turnpike_pipeline::compile::compile_native(&mut native);
    let jit = run(&native);
    let (a, b) = (format!("{jit:#?}"), format!("{interp:#?}"));
    if a != b {
        let (x, y) = a
            .lines()
            .zip(b.lines())
            .find(|(x, y)| x != y)
            .unwrap_or(("(shorter)", "(longer)"));
        return Err(format!(
            "the engines differ\n    jit    {}\n    interp {}",
            x.trim(),
            y.trim()
        ));
    }
    Ok(jit)
}

/// Checks every expectation; the error lists each difference on its own line.
fn compare(expect: &Yaml, st: &RequestState) -> Result<(), String> {
    let mut diffs: Vec<String> = Vec::new();
    if let Some(s) = expect["status"].as_i64() {
        check(&mut diffs, "status", s.to_string(), st.status.to_string());
    }
    if let Some(r) = expect["reason"].as_str() {
        check(&mut diffs, "reason", r.to_string(), st.reason.clone());
    }
    if let Some(h) = expect["headers"].as_hash() {
        for (k, v) in h {
            let name = scalar_text(k).unwrap_or_default();
            let expected = header_text(v);
            let actual = st
                .response
                .get(&name)
                .map_or("(absent)".to_string(), |v| format!("{v:?}"));
            check(
                &mut diffs,
                &format!("response header `{name}`"),
                expected,
                actual,
            );
        }
    }
    match &expect["body"] {
        Yaml::BadValue => {}
        Yaml::Null => check(
            &mut diffs,
            "body",
            "(none)".into(),
            st.response.body.clone().unwrap_or_else(|| "(none)".into()),
        ),
        b => check(
            &mut diffs,
            "body",
            scalar_text(b).unwrap_or_default(),
            st.response.body.clone().unwrap_or_else(|| "(none)".into()),
        ),
    }
    if let Some(part) = expect["body-contains"].as_str() {
        let body = st.response.body.clone().unwrap_or_default();
        if !body.contains(part) {
            diffs.push(format!(
                "body does not contain {part:?}\n      actual:   {body:?}"
            ));
        }
    }
    match &expect["backend"] {
        Yaml::BadValue => {}
        Yaml::Null => {
            if let Some((m, u, _)) = &st.forwarded {
                diffs.push(format!(
                    "the backend was called ({m} {u}) but should not have been"
                ));
            }
        }
        b => match &st.forwarded {
            None => diffs.push("the backend was not called".to_string()),
            Some((m, u, msg)) => {
                if let Some(x) = b["method"].as_str() {
                    check(&mut diffs, "backend method", x.to_string(), m.clone());
                }
                if let Some(x) = b["url"].as_str() {
                    check(&mut diffs, "backend url", x.to_string(), u.clone());
                }
                if let Some(h) = b["headers"].as_hash() {
                    for (k, v) in h {
                        let name = scalar_text(k).unwrap_or_default();
                        let actual = msg
                            .get(&name)
                            .map_or("(absent)".to_string(), |v| format!("{v:?}"));
                        check(
                            &mut diffs,
                            &format!("backend header `{name}`"),
                            header_text(v),
                            actual,
                        );
                    }
                }
                match &b["body"] {
                    Yaml::BadValue => {}
                    x => check(
                        &mut diffs,
                        "backend body",
                        scalar_text(x).unwrap_or_else(|| "(none)".into()),
                        msg.body.clone().unwrap_or_else(|| "(none)".into()),
                    ),
                }
            }
        },
    }
    if let Some(vars) = expect["variables"].as_hash() {
        for (k, v) in vars {
            let name = scalar_text(k).unwrap_or_default();
            let actual = st
                .variable(&name)
                .map_or("(unset)".to_string(), stored_text);
            let expected = match v {
                Yaml::Null => "(unset)".to_string(),
                other => scalar_text(other).unwrap_or_default(),
            };
            check(&mut diffs, &format!("variable `{name}`"), expected, actual);
        }
    }
    if let Some(traces) = expect["traces"].as_vec() {
        let with_severity = traces.iter().any(|t| t["severity"].as_str().is_some());
        let show = |source: &str, severity: &str, message: &str| {
            if with_severity {
                format!("{source} ({severity}): {message}")
            } else {
                format!("{source}: {message}")
            }
        };
        let actual: Vec<String> = st
            .traces
            .iter()
            .map(|t| show(&t.source, &t.severity, &t.message))
            .collect();
        let expected: Vec<String> = traces
            .iter()
            .map(|t| {
                show(
                    t["source"].as_str().unwrap_or_default(),
                    t["severity"].as_str().unwrap_or("verbose"),
                    t["message"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        check(
            &mut diffs,
            "traces",
            format!("{expected:?}"),
            format!("{actual:?}"),
        );
    }
    match &expect["error"] {
        Yaml::BadValue => {}
        Yaml::Null => {
            if let Some(e) = &st.last_error {
                diffs.push(format!(
                    "an error happened: {} {}: {}",
                    e.source, e.reason, e.message
                ));
            }
        }
        e => match &st.last_error {
            None => diffs.push("no error happened".to_string()),
            Some(actual) => {
                for (key, value) in [
                    ("source", &actual.source),
                    ("reason", &actual.reason),
                    ("message", &actual.message),
                    ("scope", &actual.scope),
                    ("section", &actual.section),
                    ("path", &actual.path),
                    ("policy-id", &actual.policy_id),
                ] {
                    if let Some(x) = e[key].as_str() {
                        check(
                            &mut diffs,
                            &format!("error {key}"),
                            x.to_string(),
                            value.clone(),
                        );
                    }
                }
            }
        },
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("\n    "))
    }
}

fn header_text(v: &Yaml) -> String {
    match v {
        Yaml::Null => "(absent)".to_string(),
        Yaml::Array(a) => format!("{:?}", a.iter().filter_map(scalar_text).collect::<Vec<_>>()),
        other => format!("{:?}", vec![scalar_text(other).unwrap_or_default()]),
    }
}

/// A stored variable as text, as `expect.variables` writes it.
fn stored_text(s: &Stored) -> String {
    match s {
        Stored::Null => "null".into(),
        Stored::Bool(b) => b.to_string(),
        Stored::Int(i) => i.to_string(),
        Stored::Long(i) => i.to_string(),
        Stored::Double(f) => f.to_string(),
        Stored::Decimal(d) | Stored::Str(d) | Stored::Json(d) => d.clone(),
        Stored::Char(c) => String::from_utf16_lossy(&[*c]),
        other => format!("{other:?}"),
    }
}

fn check(diffs: &mut Vec<String>, what: &str, expected: String, actual: String) {
    if expected != actual {
        diffs.push(format!(
            "{what}\n      expected: {expected}\n      actual:   {actual}"
        ));
    }
}

/// A case over an artifact folder: the effective policy of `api` / `operation` (in
/// `product`'s context), with the API's service URL as the backend and the operation's
/// first example for `mock-response`.
fn run_artifact_case(case: &Yaml, folder: &Path, engine: Engine) -> Result<(), String> {
    use turnpike_sema::effective::{Documents, effective_policy};
    let api = case["api"]
        .as_str()
        .ok_or("an `artifacts` case needs `api`")?;
    let operation = case["operation"]
        .as_str()
        .ok_or("an `artifacts` case needs `operation`")?;
    let product = case["product"].as_str();
    let mut sources = SourceMap::new();
    let (mut art, mut diags) = turnpike_config::load(folder, &mut sources);
    diags.extend(art.apply_env(&|v| std::env::var(v).ok(), &mut sources));
    let (docs, doc_diags) = Documents::load(&art, &mut sources);
    diags.extend(doc_diags);
    let (policy, merge_diags) = effective_policy(&art, &docs, &sources, api, operation, product)?;
    diags.extend(merge_diags);
    let (pipeline, compile_diags) =
        turnpike_pipeline::compile_effective(&policy, art.global_policy.is_none());
    diags.extend(compile_diags);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let mut s = String::from("the artifact folder does not load:");
        for d in errors {
            let _ = write!(s, "\n    {} [{}]", d.message, d.code.name);
        }
        return Err(s);
    }
    let state = || prepared_state(case, &art, api, operation, product);
    let st = run_on(&pipeline, engine, state, &backend_of(case))?;
    compare(&case["expect"], &st)
}

/// A case's request state with what an artifact folder says of its API and operation.
fn prepared_state(
    case: &Yaml,
    art: &turnpike_config::ArtifactFolder,
    api: &str,
    operation: &str,
    product: Option<&str>,
) -> RequestState {
    let mut st = state_of(case);
    st.backends = art
        .backends
        .values()
        .filter_map(|b| b.url.clone().map(|u| (b.name.clone(), u)))
        .collect();
    let api_def = art
        .apis
        .get(api)
        .or_else(|| art.apis.values().find(|a| a.id == api && a.is_current));
    if let Some(a) = api_def {
        st.backend_url = a.service_url.clone();
        if st.api.is_none() {
            st.api = Some(vec![
                ("Id".into(), Stored::Str(a.id.clone())),
                ("Name".into(), Stored::Str(a.display_name.clone())),
                ("Path".into(), Stored::Str(a.path.clone())),
            ]);
        }
        if let Some(op) = a
            .specification
            .as_ref()
            .and_then(|s| s.operations.iter().find(|o| o.id == operation))
        {
            if st.operation.is_none() {
                st.operation = Some(vec![
                    ("Id".into(), Stored::Str(op.id.clone())),
                    ("Method".into(), Stored::Str(op.method.to_ascii_uppercase())),
                    ("UrlTemplate".into(), Stored::Str(op.template.clone())),
                ]);
            }
            if st.variable("$mock-example").is_none()
                && let Some((_, ex)) = op.examples.first()
            {
                st.set_variable("$mock-example", Stored::Str(ex.to_string()));
            }
            if st.matched.is_empty() {
                st.matched = match_template(&op.template, &st.url.path, &a.path);
            }
        }
    }
    if let Some(p) = product
        && st.product.is_none()
    {
        st.product = Some(vec![
            ("Id".into(), Stored::Str(p.to_string())),
            ("Name".into(), Stored::Str(p.to_string())),
        ]);
    }
    st
}

/// Path parameters of an operation template (`/orders/{id}`) in a request path that starts
/// with the API's path.
fn match_template(template: &str, path: &str, api_path: &str) -> Vec<(String, String)> {
    let rest = path.trim_start_matches('/');
    let rest = rest
        .strip_prefix(api_path.trim_matches('/'))
        .unwrap_or(rest);
    let t = template.split('?').next().unwrap_or_default();
    let ts: Vec<&str> = t.trim_matches('/').split('/').collect();
    let ps: Vec<&str> = rest.trim_matches('/').split('/').collect();
    if ts.len() != ps.len() {
        return Vec::new();
    }
    ts.iter()
        .zip(&ps)
        .filter_map(|(t, p)| {
            t.strip_prefix('{')
                .and_then(|n| n.strip_suffix('}'))
                .map(|n| (n.to_string(), (*p).to_string()))
        })
        .collect()
}
