//! A policy document to a [`Pipeline`]: each policy element becomes a [`Step`], each value a
//! literal or a compiled expression.

use std::sync::Arc;

use turnpike_diagnostics::{Diagnostic, Span, codes};
use turnpike_ir::ir::Body;
use turnpike_syntax::tree::{Document, Element, Node, Value, ValueKind};

/// A value a policy reads: literal text or a compiled expression.
#[derive(Clone, Debug)]
pub enum Val {
    /// Text as written (entities decoded).
    Text(String),
    /// A policy expression, checked and lowered.
    Expr(Arc<Body>),
}

/// Which message a policy changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The request (inbound, backend).
    Request,
    /// The response (outbound, on-error).
    Response,
}

/// The four sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// `inbound`
    Inbound,
    /// `backend`
    Backend,
    /// `outbound`
    Outbound,
    /// `on-error`
    OnError,
}

impl Section {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }

    fn target(self) -> Target {
        match self {
            Section::Inbound | Section::Backend => Target::Request,
            Section::Outbound | Section::OnError => Target::Response,
        }
    }
}

/// One policy statement, ready to run.
#[derive(Clone, Debug)]
pub struct Step {
    /// The policy's element name (`LastError.Source`).
    pub policy: String,
    /// `choose[1]/when[2]/set-header[1]` (`LastError.Path`).
    pub path: String,
    /// The `id` attribute.
    pub id: String,
    /// The scope the statement comes from (`LastError.Scope`; empty for a standalone document).
    pub scope: String,
    /// What it does.
    pub kind: StepKind,
}

/// `set-header` / `set-query-parameter` behaviour when the name exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistsAction {
    /// Replace the values (the default).
    Override,
    /// Leave an existing one alone.
    Skip,
    /// Add the values to the existing ones.
    Append,
    /// Remove it.
    Delete,
}

/// The policies the driver runs.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// `set-variable`
    SetVariable { name: String, value: Val },
    /// `choose`: conditions with their branches, then `otherwise`.
    Choose {
        whens: Vec<(Val, Vec<Step>)>,
        otherwise: Vec<Step>,
    },
    /// `set-header`
    SetHeader {
        target: Target,
        name: Val,
        action: Val,
        values: Vec<Val>,
    },
    /// `set-query-parameter`
    SetQuery {
        name: Val,
        action: Val,
        values: Vec<Val>,
    },
    /// `rewrite-uri`
    RewriteUri { template: Val, copy_unmatched: bool },
    /// `set-method`
    SetMethod(Val),
    /// `set-status`
    SetStatus { code: Val, reason: Option<Val> },
    /// `set-body`
    SetBody { target: Target, value: Val },
    /// `set-backend-service`
    SetBackend {
        base_url: Option<Val>,
        backend_id: Option<Val>,
    },
    /// `forward-request`
    Forward {
        timeout: Option<Val>,
        fail_on_error: Option<Val>,
    },
    /// `return-response`: its children build the response.
    ReturnResponse {
        variable: Option<String>,
        steps: Vec<Step>,
    },
    /// `mock-response`
    MockResponse { status: i32, content_type: String },
    /// `check-header`
    CheckHeader {
        name: Val,
        code: Val,
        message: Val,
        ignore_case: Val,
        values: Vec<Val>,
    },
    /// `ip-filter`: `allow` or `forbid`, single addresses and `from`-`to` ranges.
    IpFilter {
        action: Val,
        addresses: Vec<Val>,
        ranges: Vec<(Val, Val)>,
    },
    /// `trace`
    Trace {
        source: Val,
        severity: Val,
        message: Option<Val>,
    },
    /// `<base/>` of a standalone document's backend: the global scope's `forward-request`.
    BaseForward,
    /// Any other policy: running it fails closed (`PolicyNotSupported`).
    Unsupported,
}

/// Native code for a pipeline's expressions, by the address of their body (empty: every
/// expression runs on the interpreter).
#[derive(Clone, Default)]
pub struct NativeCode(pub Arc<std::collections::HashMap<usize, turnpike_jit::Compiled>>);

impl std::fmt::Debug for NativeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeCode({} bodies)", self.0.len())
    }
}

impl NativeCode {
    /// The native code of a body, when the JIT compiled it.
    pub fn get(&self, body: &Arc<Body>) -> Option<&turnpike_jit::Compiled> {
        self.0.get(&(Arc::as_ptr(body) as usize))
    }
}

/// Compiles every expression of a pipeline the JIT covers, in one batch; the others keep
/// running on the interpreter. Returns how many were compiled, of how many.
pub fn compile_native(p: &mut Pipeline) -> (usize, usize) {
    let mut bodies: Vec<Arc<Body>> = Vec::new();
    let mut collect = |v: &Val| {
        if let Val::Expr(b) = v {
            bodies.push(Arc::clone(b));
        }
    };
    visit_pipeline(p, &mut collect);
    let refs: Vec<&Body> = bodies.iter().map(|b| &**b).collect();
    let mut map = std::collections::HashMap::new();
    for (b, c) in bodies.iter().zip(turnpike_jit::compile_batch(&refs)) {
        if let Ok(c) = c {
            map.insert(Arc::as_ptr(b) as usize, c);
        }
    }
    let n = map.len();
    p.native = NativeCode(Arc::new(map));
    (n, bodies.len())
}

/// Calls `f` on every value of a pipeline, section by section.
pub fn visit_pipeline(p: &Pipeline, f: &mut dyn FnMut(&Val)) {
    for steps in [
        Some(&p.inbound),
        p.backend.as_ref(),
        Some(&p.outbound),
        Some(&p.on_error),
    ]
    .into_iter()
    .flatten()
    {
        for s in steps {
            visit_step(s, f);
        }
    }
}

/// Calls `f` on every value of a step and of the steps it holds.
pub fn visit_step(s: &Step, f: &mut dyn FnMut(&Val)) {
    use StepKind as K;
    match &s.kind {
        K::SetVariable { value, .. } => f(value),
        K::Choose { whens, otherwise } => {
            for (c, steps) in whens {
                f(c);
                for s in steps {
                    visit_step(s, f);
                }
            }
            for s in otherwise {
                visit_step(s, f);
            }
        }
        K::SetHeader {
            name,
            action,
            values,
            ..
        }
        | K::SetQuery {
            name,
            action,
            values,
        } => {
            f(name);
            f(action);
            values.iter().for_each(&mut *f);
        }
        K::RewriteUri { template, .. } => f(template),
        K::SetMethod(v) => f(v),
        K::SetStatus { code, reason } => {
            f(code);
            reason.iter().for_each(&mut *f);
        }
        K::SetBody { value, .. } => f(value),
        K::SetBackend {
            base_url,
            backend_id,
        } => {
            base_url.iter().for_each(&mut *f);
            backend_id.iter().for_each(&mut *f);
        }
        K::Forward {
            timeout,
            fail_on_error,
        } => {
            timeout.iter().for_each(&mut *f);
            fail_on_error.iter().for_each(&mut *f);
        }
        K::ReturnResponse { steps, .. } => {
            for s in steps {
                visit_step(s, f);
            }
        }
        K::CheckHeader {
            name,
            code,
            message,
            ignore_case,
            values,
        } => {
            for v in [name, code, message, ignore_case] {
                f(v);
            }
            values.iter().for_each(&mut *f);
        }
        K::IpFilter {
            action,
            addresses,
            ranges,
        } => {
            f(action);
            addresses.iter().for_each(&mut *f);
            for (a, b) in ranges {
                f(a);
                f(b);
            }
        }
        K::Trace {
            source,
            severity,
            message,
        } => {
            f(source);
            f(severity);
            message.iter().for_each(&mut *f);
        }
        K::MockResponse { .. } | K::BaseForward | K::Unsupported => {}
    }
}

/// A compiled policy: its four sections.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    /// `inbound` steps.
    pub inbound: Vec<Step>,
    /// `backend` steps (a missing section forwards the request).
    pub backend: Option<Vec<Step>>,
    /// `outbound` steps.
    pub outbound: Vec<Step>,
    /// `on-error` steps.
    pub on_error: Vec<Step>,
    /// Native code for its expressions ([`compile_native`]).
    pub native: NativeCode,
}

struct Compiler {
    diags: Vec<Diagnostic>,
    /// The scope of the statements being compiled.
    scope: String,
}

/// Compiles a standalone policy document. `<base/>` stands for the (empty) outer scopes,
/// except in `backend`, where the global scope's default `forward-request` runs.
pub fn compile_document(doc: &Document) -> (Pipeline, Vec<Diagnostic>) {
    let mut c = Compiler {
        diags: Vec::new(),
        scope: String::new(),
    };
    let mut p = Pipeline::default();
    let Some(root) = &doc.root else {
        return (p, c.diags);
    };
    for sec in root.elements() {
        let section = match sec.name.as_str() {
            "inbound" => Section::Inbound,
            "backend" => Section::Backend,
            "outbound" => Section::Outbound,
            "on-error" => Section::OnError,
            _ => continue,
        };
        let steps = c.steps(sec, section, "");
        match section {
            Section::Inbound => p.inbound = steps,
            Section::Backend => p.backend = Some(steps),
            Section::Outbound => p.outbound = steps,
            Section::OnError => p.on_error = steps,
        }
    }
    (p, c.diags)
}

impl Compiler {
    fn steps(&mut self, parent: &Element, section: Section, prefix: &str) -> Vec<Step> {
        let elements: Vec<Element> = parent.elements().cloned().collect();
        self.step_list(&elements, section, prefix)
    }

    fn step_list(&mut self, elements: &[Element], section: Section, prefix: &str) -> Vec<Step> {
        let mut out = Vec::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for el in elements {
            let n = match counts.iter_mut().find(|(k, _)| *k == el.name) {
                Some(c) => {
                    c.1 += 1;
                    c.1
                }
                None => {
                    counts.push((el.name.clone(), 1));
                    1
                }
            };
            let path = format!("{prefix}{}[{n}]", el.name);
            if el.name == "base" {
                if section == Section::Backend {
                    out.push(Step {
                        policy: "forward-request".into(),
                        path,
                        id: String::new(),
                        scope: self.scope.clone(),
                        kind: StepKind::BaseForward,
                    });
                }
                continue;
            }
            let kind = self.kind(el, section, &path);
            out.push(Step {
                policy: el.name.clone(),
                id: el
                    .attr("id")
                    .map(|a| a.value.text.clone())
                    .unwrap_or_default(),
                path,
                scope: self.scope.clone(),
                kind,
            });
        }
        out
    }

    fn val(&mut self, v: &Value) -> Val {
        match &v.kind {
            ValueKind::Expression(e) => match &e.body {
                Some(body) => {
                    let checked = turnpike_typeck::check(body);
                    self.diags
                        .extend(checked.diagnostics.into_iter().filter(Diagnostic::is_error));
                    Val::Expr(Arc::new(checked.body))
                }
                None => Val::Text(String::new()),
            },
            _ => Val::Text(v.text.clone()),
        }
    }

    fn attr(&mut self, el: &Element, name: &str) -> Option<Val> {
        el.attr(name).map(|a| {
            let v = a.value.clone();
            self.val(&v)
        })
    }

    fn attr_or(&mut self, el: &Element, name: &str, default: &str) -> Val {
        self.attr(el, name)
            .unwrap_or_else(|| Val::Text(default.to_string()))
    }

    /// The element's text (an expression or literal), empty when none.
    fn text(&mut self, el: &Element) -> Val {
        let texts: Vec<Value> = el.texts().cloned().collect();
        match texts.as_slice() {
            [one] => self.val(one),
            [] => Val::Text(String::new()),
            many => Val::Text(many.iter().map(|v| v.text.as_str()).collect()),
        }
    }

    fn children_values(&mut self, el: &Element, child: &str) -> Vec<Val> {
        let kids: Vec<Element> = el.elements().filter(|e| e.name == child).cloned().collect();
        kids.iter().map(|k| self.text(k)).collect()
    }

    fn kind(&mut self, el: &Element, section: Section, path: &str) -> StepKind {
        match el.name.as_str() {
            "set-variable" => StepKind::SetVariable {
                name: el
                    .attr("name")
                    .map(|a| a.value.text.clone())
                    .unwrap_or_default(),
                value: self.attr_or(el, "value", ""),
            },
            "choose" => {
                let mut whens = Vec::new();
                let mut otherwise = Vec::new();
                let mut wn = 0;
                for b in el.elements() {
                    match b.name.as_str() {
                        "when" => {
                            wn += 1;
                            let cond = self.attr_or(b, "condition", "false");
                            let steps = self.steps(b, section, &format!("{path}/when[{wn}]/"));
                            whens.push((cond, steps));
                        }
                        "otherwise" => {
                            otherwise = self.steps(b, section, &format!("{path}/otherwise[1]/"))
                        }
                        _ => {}
                    }
                }
                StepKind::Choose { whens, otherwise }
            }
            "set-header" => StepKind::SetHeader {
                target: section.target(),
                name: self.attr_or(el, "name", ""),
                action: self.attr_or(el, "exists-action", "override"),
                values: self.children_values(el, "value"),
            },
            "set-query-parameter" => StepKind::SetQuery {
                name: self.attr_or(el, "name", ""),
                action: self.attr_or(el, "exists-action", "override"),
                values: self.children_values(el, "value"),
            },
            "rewrite-uri" => StepKind::RewriteUri {
                template: self.attr_or(el, "template", "/"),
                copy_unmatched: el
                    .attr("copy-unmatched-params")
                    .is_none_or(|a| a.value.text.trim() != "false"),
            },
            "set-method" => StepKind::SetMethod(self.text(el)),
            "set-status" => StepKind::SetStatus {
                code: self.attr_or(el, "code", "200"),
                reason: self.attr(el, "reason"),
            },
            // Liquid templates are not rendered yet: fail closed rather than send the template.
            "set-body"
                if el
                    .attr("template")
                    .is_some_and(|a| a.value.text.trim().eq_ignore_ascii_case("liquid")) =>
            {
                StepKind::Unsupported
            }
            "set-body" => StepKind::SetBody {
                target: section.target(),
                value: self.text(el),
            },
            "set-backend-service" => StepKind::SetBackend {
                base_url: self.attr(el, "base-url"),
                backend_id: self.attr(el, "backend-id"),
            },
            "forward-request" => StepKind::Forward {
                timeout: self.attr(el, "timeout"),
                fail_on_error: self.attr(el, "fail-on-error-status-code"),
            },
            "return-response" => StepKind::ReturnResponse {
                variable: el
                    .attr("response-variable-name")
                    .map(|a| a.value.text.clone()),
                steps: self.steps(el, Section::Outbound, &format!("{path}/")),
            },
            "mock-response" => StepKind::MockResponse {
                status: el
                    .attr("status-code")
                    .and_then(|a| a.value.text.trim().parse().ok())
                    .unwrap_or(200),
                content_type: el
                    .attr("content-type")
                    .map_or_else(|| "application/json".to_string(), |a| a.value.text.clone()),
            },
            "check-header" => StepKind::CheckHeader {
                name: self.attr_or(el, "name", ""),
                code: self.attr_or(el, "failed-check-httpcode", "401"),
                message: self.attr_or(el, "failed-check-error-message", ""),
                ignore_case: self.attr_or(el, "ignore-case", "false"),
                values: self.children_values(el, "value"),
            },
            "ip-filter" => {
                let action = self.attr_or(el, "action", "allow");
                let addresses = self.children_values(el, "address");
                let ranges: Vec<Element> = el
                    .elements()
                    .filter(|e| e.name == "address-range")
                    .cloned()
                    .collect();
                let ranges = ranges
                    .iter()
                    .map(|r| (self.attr_or(r, "from", ""), self.attr_or(r, "to", "")))
                    .collect();
                StepKind::IpFilter {
                    action,
                    addresses,
                    ranges,
                }
            }
            "trace" => StepKind::Trace {
                source: self.attr_or(el, "source", ""),
                severity: self.attr_or(el, "severity", "verbose"),
                message: {
                    let m: Vec<Element> = el
                        .elements()
                        .filter(|e| e.name == "message")
                        .cloned()
                        .collect();
                    m.first().map(|m| self.text(m))
                },
            },
            _ => StepKind::Unsupported,
        }
    }
}

/// A diagnostic for a document that does not compile (used by callers that need one).
pub fn not_compiled(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        &codes::EXPRESSION_SYNTAX,
        span,
        format!("the policy cannot run: {what}"),
    )
}

/// Children of an element that are not elements (for callers that inspect text).
pub fn has_text(el: &Element) -> bool {
    el.children.iter().any(|n| matches!(n, Node::Text(_)))
}

/// Compiles the effective policy of one call (scopes merged through `<base/>`, fragments
/// inlined). `default_global` says the folder has no global policy: APIM's default one, whose
/// `backend` forwards the request, stands in; otherwise an empty `backend` forwards nothing.
pub fn compile_effective(
    policy: &turnpike_sema::effective::EffectivePolicy,
    default_global: bool,
) -> (Pipeline, Vec<Diagnostic>) {
    use turnpike_sema::catalog::Section as S;
    let mut c = Compiler {
        diags: Vec::new(),
        scope: String::new(),
    };
    let mut p = Pipeline::default();
    for (sec, statements) in &policy.sections {
        let section = match sec {
            S::Inbound => Section::Inbound,
            S::Backend => Section::Backend,
            S::Outbound => Section::Outbound,
            S::OnError => Section::OnError,
        };
        let mut steps = Vec::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for st in statements {
            c.scope = st.origin.scope.to_string();
            let mut one = c.step_list(std::slice::from_ref(&st.element), section, "");
            // Number the statement among its section's statements of the same name.
            let n = match counts.iter_mut().find(|(k, _)| *k == st.element.name) {
                Some(e) => {
                    e.1 += 1;
                    e.1
                }
                None => {
                    counts.push((st.element.name.clone(), 1));
                    1
                }
            };
            for s in &mut one {
                s.path = s.path.replacen(
                    &format!("{}[1]", st.element.name),
                    &format!("{}[{n}]", st.element.name),
                    1,
                );
            }
            steps.extend(one);
        }
        match section {
            Section::Inbound => p.inbound = steps,
            Section::Backend => {
                p.backend = if steps.is_empty() && default_global {
                    None
                } else {
                    Some(steps)
                }
            }
            Section::Outbound => p.outbound = steps,
            Section::OnError => p.on_error = steps,
        }
    }
    (p, c.diags)
}
