//! The driver: sections, early returns, errors and `on-error`, over one request.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use turnpike_interp::value::Value;
use turnpike_interp::{Exception, Options};
use turnpike_ir::ir::Body;

use crate::compile::{Pipeline, Section, Step, StepKind, Target, Val};
use crate::state::{HttpMessage, LastError, RequestState, Stored, TraceEntry};

/// What the gateway (or a test) sends to a backend. The message is borrowed from the request
/// state: the pipeline still reads it after the call.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendRequest<'a> {
    /// Method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers and body.
    pub message: &'a HttpMessage,
    /// `forward-request`'s timeout in seconds.
    pub timeout_secs: f64,
}

/// A backend's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackendResponse {
    /// Status code.
    pub status: i32,
    /// Reason phrase.
    pub reason: String,
    /// Headers and body.
    pub message: HttpMessage,
}

/// Why a backend call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendError {
    /// No response within the timeout.
    Timeout,
    /// The connection failed.
    Connection(String),
}

/// A boxed backend call.
pub type BackendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<BackendResponse, BackendError>> + Send + 'a>>;

/// Something that answers `forward-request`: the gateway's HTTP client, or a test's mocks.
pub trait Backend: Sync {
    /// Sends one request.
    fn send<'a>(&'a self, req: BackendRequest<'a>) -> BackendFuture<'a>;
}

/// How a run of steps ended.
enum Flow {
    Continue,
    /// A response is ready (`return-response`, `mock-response`).
    Return,
    /// An error, with the response to give when `on-error` does not answer.
    Error(LastError, ErrorResponse),
}

/// The response an error gives by default.
#[derive(Clone, Debug)]
struct ErrorResponse {
    status: i32,
    message: String,
}

fn internal_error() -> ErrorResponse {
    ErrorResponse {
        status: 500,
        message: "Internal server error".into(),
    }
}

/// Runs a pipeline on a request; the response is left in `st` (`status`, `reason`,
/// `response`).
pub async fn run(p: &Pipeline, st: &mut RequestState, backend: &dyn Backend, opts: &Options) {
    let d = Driver {
        backend,
        opts,
        native: &p.native,
    };
    let mut flow = d.steps(&p.inbound, Section::Inbound, st).await;
    if matches!(flow, Flow::Continue) {
        flow = match &p.backend {
            Some(steps) => d.steps(steps, Section::Backend, st).await,
            None => d.forward(st, None, None, None).await,
        };
    }
    if matches!(flow, Flow::Continue) {
        if st.status == 0 {
            st.status = 200;
            st.reason = "OK".into();
        }
        flow = d.steps(&p.outbound, Section::Outbound, st).await;
    }
    if let Flow::Error(err, response) = flow {
        d.on_error(p, st, err, response).await;
    }
    if st.status == 0 {
        st.status = 200;
        st.reason = "OK".into();
    }
}

/// Runs only `on-error`, for an error found before the pipeline ran (the gateway's built-in
/// steps: no matching operation, a missing or invalid key). When `on-error` does not answer,
/// the answer is `status` with APIM's body holding `message`, plus the headers `on-error` set.
pub async fn run_on_error(
    p: &Pipeline,
    st: &mut RequestState,
    backend: &dyn Backend,
    opts: &Options,
    error: LastError,
    status: i32,
    message: &str,
) {
    let d = Driver {
        backend,
        opts,
        native: &p.native,
    };
    let response = ErrorResponse {
        status,
        message: message.to_string(),
    };
    // `on-error` sees the error's status (`context.Response.StatusCode`), and an `on-error`
    // that sets only a body answers with it, as in a pipeline.
    st.status = status;
    st.reason = reason_of(status).into();
    d.on_error(p, st, error, response).await;
}

impl Driver<'_> {
    async fn on_error(
        &self,
        p: &Pipeline,
        st: &mut RequestState,
        err: LastError,
        response: ErrorResponse,
    ) {
        st.last_error = Some(err);
        // `on-error` sees the response as it was (`context.Response.StatusCode` after a
        // backend error is the backend's status); whether it sets a status or body decides
        // who answers.
        st.answered = false;
        let on_error = self.steps(&p.on_error, Section::OnError, st).await;
        match on_error {
            Flow::Return => {}
            Flow::Error(e, _) => {
                st.last_error = Some(e);
                error_response(st, &internal_error());
            }
            Flow::Continue => {
                if !st.answered {
                    // `on-error` set no status or body: the error's own response, with the
                    // headers `on-error` set.
                    let headers = Arc::unwrap_or_clone(std::mem::take(&mut st.response.headers));
                    error_response(st, &response);
                    for (k, v) in headers {
                        if !k.eq_ignore_ascii_case("content-type")
                            && !k.eq_ignore_ascii_case("content-length")
                        {
                            st.response.set(&k, v);
                        }
                    }
                }
            }
        }
    }
}

fn reason_of(status: i32) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// APIM's generated error body: `statusCode` and `message`, then `activityId` (the request
/// id) for internal errors (500).
pub fn error_body(status: i32, message: &str, request_id: u128) -> String {
    let message = serde_json::Value::String(message.to_string()).to_string();
    if status == 500 {
        format!(
            "{{\n  \"statusCode\": {status},\n  \"message\": {message},\n  \"activityId\": \"{}\"\n}}",
            guid_text(request_id)
        )
    } else {
        format!("{{\n  \"statusCode\": {status},\n  \"message\": {message}\n}}")
    }
}

/// APIM's generated error response.
fn error_response(st: &mut RequestState, e: &ErrorResponse) {
    st.status = e.status;
    st.reason = reason_of(e.status).into();
    st.response = HttpMessage {
        headers: vec![("Content-Type".into(), vec!["application/json".into()])].into(),
        body: Some(error_body(e.status, &e.message, st.request_id)),
    };
    st.backend_body = false;
}

/// A request id as a GUID's text (`8-4-4-4-12` lower-case hex digits).
pub fn guid_text(g: u128) -> String {
    let h = format!("{g:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The `context` of one synchronous run: built from the state when first needed, dropped when
/// a step changes the state. It never lives across an `await`.
#[derive(Default)]
struct Frame {
    ctx: Option<Rc<turnpike_interp::Context>>,
}

impl Frame {
    fn get(&mut self, st: &RequestState) -> Rc<turnpike_interp::Context> {
        self.ctx
            .get_or_insert_with(|| Rc::new(st.context()))
            .clone()
    }
}

/// Whether a step does I/O, directly or in a branch.
fn is_async(step: &Step) -> bool {
    match &step.kind {
        StepKind::Forward { .. } | StepKind::BaseForward => true,
        StepKind::Choose { whens, otherwise } => {
            whens.iter().any(|(_, b)| b.iter().any(is_async)) || otherwise.iter().any(is_async)
        }
        StepKind::ReturnResponse { steps, .. } => steps.iter().any(is_async),
        _ => false,
    }
}

/// Whether a step may change what `context` shows in a way the frame does not follow.
/// `set-variable` updates the frame in place; `choose` changes nothing itself (its branches'
/// steps are judged one by one).
fn changes_state(step: &Step) -> bool {
    !matches!(
        step.kind,
        StepKind::Trace { .. }
            | StepKind::CheckHeader { .. }
            | StepKind::IpFilter { .. }
            | StepKind::SetBackend { .. }
            | StepKind::SetVariable { .. }
            | StepKind::Choose { .. }
    )
}

struct Driver<'a> {
    backend: &'a dyn Backend,
    opts: &'a Options,
    /// Native code for the pipeline's expressions (the rest run on the interpreter).
    native: &'a crate::compile::NativeCode,
}

/// The error of a step.
fn step_error(step: &Step, section: Section, reason: &str, message: String) -> LastError {
    LastError {
        source: step.policy.clone(),
        reason: reason.into(),
        message,
        scope: step.scope.clone(),
        section: section.name().into(),
        path: step.path.clone(),
        policy_id: step.id.clone(),
    }
}

impl Driver<'_> {
    fn steps<'s>(
        &'s self,
        steps: &'s [Step],
        section: Section,
        st: &'s mut RequestState,
    ) -> Pin<Box<dyn Future<Output = Flow> + Send + 's>> {
        Box::pin(async move {
            let mut i = 0;
            while i < steps.len() {
                let flow = if is_async(&steps[i]) {
                    let f = self.step_async(&steps[i], section, st).await;
                    i += 1;
                    f
                } else {
                    // A run of steps that do no I/O: one synchronous call over one frame.
                    let end = (i..steps.len())
                        .find(|k| is_async(&steps[*k]))
                        .unwrap_or(steps.len());
                    let f = self.run_sync(&steps[i..end], section, st);
                    i = end;
                    f
                };
                if !matches!(flow, Flow::Continue) {
                    return flow;
                }
            }
            Flow::Continue
        })
    }

    /// Runs steps that do no I/O synchronously, sharing one frame until a step changes the
    /// state the frame was built from.
    fn run_sync(&self, steps: &[Step], section: Section, st: &mut RequestState) -> Flow {
        let mut frame = Frame::default();
        self.run_sync_in(steps, section, st, &mut frame)
    }

    fn run_sync_in(
        &self,
        steps: &[Step],
        section: Section,
        st: &mut RequestState,
        frame: &mut Frame,
    ) -> Flow {
        for step in steps {
            let flow = self.step_sync(step, section, st, frame);
            // A frame kept across steps must not carry an object an expression changed in
            // place: with a reference-typed variable about, start afresh as before.
            if changes_state(step)
                || (matches!(
                    step.kind,
                    StepKind::SetVariable { .. } | StepKind::Choose { .. }
                ) && st.has_reference_variables())
            {
                frame.ctx = None;
            }
            if !matches!(flow, Flow::Continue) {
                return flow;
            }
        }
        Flow::Continue
    }

    /// Evaluates a value in the frame (built from the state when it has none).
    fn eval(&self, v: &Val, st: &mut RequestState, frame: &mut Frame) -> Result<Value, Exception> {
        match v {
            Val::Text(t) => Ok(Value::str(t)),
            Val::Expr(body) => self.eval_body(body, st, frame),
        }
    }

    fn eval_body(
        &self,
        body: &Arc<Body>,
        st: &mut RequestState,
        frame: &mut Frame,
    ) -> Result<Value, Exception> {
        let ctx = frame.get(st);
        let opts = Options {
            now: st.now,
            ..self.opts.clone()
        };
        let r = match self.native.get(body) {
            Some(native) => native.run(ctx.clone(), &opts),
            None => turnpike_interp::run(body, ctx.clone(), opts),
        };
        for m in ctx.traces.borrow_mut().drain(..) {
            st.traces.push(TraceEntry {
                source: String::new(),
                severity: "verbose".into(),
                message: m,
            });
        }
        r
    }

    fn text(&self, v: &Val, st: &mut RequestState, frame: &mut Frame) -> Result<String, Exception> {
        match v {
            Val::Text(t) => Ok(t.clone()),
            Val::Expr(_) => {
                let x = self.eval(v, st, frame)?;
                // A string is its own text; anything else goes through `ToString()`.
                if let Value::Str(s) = &x {
                    return Ok(s.to_string());
                }
                Ok(turnpike_interp::eval::to_string_outside(
                    turnpike_ir::Library::get(),
                    frame.get(st),
                    &x,
                ))
            }
        }
    }

    fn bool(&self, v: &Val, st: &mut RequestState, frame: &mut Frame) -> Result<bool, Exception> {
        match self.eval(v, st, frame)? {
            Value::Bool(b) => Ok(b),
            Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Exception::format(format!(
                    "String '{s}' was not recognized as a valid Boolean."
                ))),
            },
            Value::Null => Ok(false),
            other => Err(Exception::cast("Object", &format!("{other:?}"))),
        }
    }

    fn int(&self, v: &Val, st: &mut RequestState, frame: &mut Frame) -> Result<i64, Exception> {
        match self.eval(v, st, frame)? {
            Value::Str(s) => s.trim().parse().map_err(|_| {
                Exception::format(format!(
                    "The input string '{s}' was not in a correct format."
                ))
            }),
            x if x.prim().is_some() => Ok(turnpike_interp::convert::as_i64(&x)),
            other => Err(Exception::cast("Object", &format!("{other:?}"))),
        }
    }

    fn fail(step: &Step, section: Section, e: Exception) -> Flow {
        let message = format!("Expression evaluation failed. {}", e.message);
        Flow::Error(
            step_error(step, section, "ExpressionValueEvaluationFailure", message),
            internal_error(),
        )
    }

    fn step_sync(
        &self,
        step: &Step,
        section: Section,
        st: &mut RequestState,
        frame: &mut Frame,
    ) -> Flow {
        macro_rules! ev {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Self::fail(step, section, e),
                }
            };
        }
        match &step.kind {
            StepKind::SetVariable { name, value } => {
                let v = match value {
                    Val::Text(t) => Stored::Str(t.clone()),
                    Val::Expr(_) => Stored::from_value(&ev!(self.eval(value, st, frame))),
                };
                // The frame sees the stored value, as a new frame built from the state would.
                if let Some(ctx) = &frame.ctx {
                    ctx.variables
                        .borrow_mut()
                        .set(Value::str(name), v.to_value());
                }
                st.set_variable(name, v);
                Flow::Continue
            }
            StepKind::Choose { whens, otherwise } => {
                for (cond, branch) in whens {
                    if ev!(self.bool(cond, st, frame)) {
                        return self.run_sync_in(branch, section, st, frame);
                    }
                }
                self.run_sync_in(otherwise, section, st, frame)
            }
            StepKind::SetHeader {
                target,
                name,
                action,
                values,
            } => {
                let name = ev!(self.text(name, st, frame));
                let action = ev!(self.text(action, st, frame));
                let mut vals = Vec::new();
                for v in values {
                    vals.push(ev!(self.text(v, st, frame)));
                }
                let msg = match target {
                    Target::Request => &mut st.request,
                    Target::Response => &mut st.response,
                };
                let join = !REPEATED_HEADERS
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(&name));
                apply_exists_action(&action, msg.get(&name).cloned(), vals, |v| match v {
                    // Several values go out as one comma-joined header, except for headers
                    // whose values may hold commas or dates.
                    Some(v) if join && v.len() > 1 => msg.set(&name, vec![v.join(",")]),
                    Some(v) => msg.set(&name, v),
                    None => msg.remove(&name),
                });
                Flow::Continue
            }
            StepKind::SetQuery {
                name,
                action,
                values,
            } => {
                let name = ev!(self.text(name, st, frame));
                let action = ev!(self.text(action, st, frame));
                let mut vals = Vec::new();
                for v in values {
                    vals.push(ev!(self.text(v, st, frame)));
                }
                let current = st
                    .url
                    .query
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    .map(|(_, v)| v.clone());
                st.raw_query = None;
                let q = &mut Arc::make_mut(&mut st.url).query;
                apply_exists_action(&action, current, vals, |v| match v {
                    Some(v) => match q.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        Some(e) => e.1 = v,
                        None => q.push((name.clone(), v)),
                    },
                    None => q.retain(|(n, _)| !n.eq_ignore_ascii_case(&name)),
                });
                Flow::Continue
            }
            StepKind::RewriteUri {
                template,
                copy_unmatched,
            } => {
                let t = ev!(self.text(template, st, frame));
                rewrite(st, &t, *copy_unmatched);
                Flow::Continue
            }
            StepKind::SetMethod(v) => {
                st.method = ev!(self.text(v, st, frame)).trim().to_ascii_uppercase();
                Flow::Continue
            }
            StepKind::SetStatus { code, reason } => {
                let c = ev!(self.int(code, st, frame));
                if !(100..=599).contains(&c) {
                    return Self::fail(step, section, Exception::range("code"));
                }
                st.status = c as i32;
                st.answered = true;
                st.reason = match reason {
                    Some(r) => ev!(self.text(r, st, frame)),
                    None => reason_of(st.status).into(),
                };
                Flow::Continue
            }
            StepKind::SetBody { target, value } => {
                let body = ev!(self.text(value, st, frame));
                match target {
                    Target::Request => st.request.body = Some(body),
                    Target::Response => {
                        st.response.body = Some(body);
                        st.answered = true;
                        st.backend_body = false;
                    }
                }
                Flow::Continue
            }
            StepKind::SetBackend {
                base_url,
                backend_id,
            } => {
                if let Some(u) = base_url {
                    st.backend_url = Some(ev!(self.text(u, st, frame)));
                } else if let Some(id) = backend_id {
                    let id = ev!(self.text(id, st, frame));
                    match st
                        .backends
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&id))
                    {
                        Some((_, url)) => st.backend_url = Some(url.clone()),
                        None => {
                            return Flow::Error(
                                step_error(
                                    step,
                                    section,
                                    "BackendNotFound",
                                    format!("Backend with id '{id}' could not be found."),
                                ),
                                internal_error(),
                            );
                        }
                    }
                }
                Flow::Continue
            }
            // Forwarding is I/O: `steps` sends these to `step_async`.
            StepKind::Forward { .. } | StepKind::BaseForward => Flow::Error(
                step_error(
                    step,
                    section,
                    "PolicyNotSupported",
                    "forward-request cannot run in a synchronous run".into(),
                ),
                internal_error(),
            ),
            StepKind::ReturnResponse { variable, steps } => {
                if variable.is_some() {
                    return Flow::Error(
                        step_error(step, section, "PolicyNotSupported", "Turnpike cannot run `return-response` with `response-variable-name` yet.".into()),
                        internal_error(),
                    );
                }
                st.status = 200;
                st.reason = "OK".into();
                st.response = HttpMessage::default();
                st.answered = true;
                st.backend_body = false;
                frame.ctx = None;
                match self.run_sync_in(steps, section, st, frame) {
                    Flow::Error(e, r) => Flow::Error(e, r),
                    _ => Flow::Return,
                }
            }
            StepKind::MockResponse {
                status,
                content_type,
            } => {
                st.status = *status;
                st.reason = reason_of(*status).into();
                let example = st.variable("$mock-example").and_then(|v| match v {
                    Stored::Str(s) => Some(s.clone()),
                    _ => None,
                });
                st.response = HttpMessage {
                    headers: if example.is_some() {
                        vec![("Content-Type".into(), vec![content_type.clone()])].into()
                    } else {
                        Arc::default()
                    },
                    body: example,
                };
                st.backend_body = false;
                Flow::Return
            }
            StepKind::CheckHeader {
                name,
                code,
                message,
                ignore_case,
                values,
            } => {
                let name = ev!(self.text(name, st, frame));
                let code = ev!(self.int(code, st, frame));
                if !(100..=599).contains(&code) {
                    return Self::fail(step, section, Exception::range("failed-check-httpcode"));
                }
                let code = code as i32;
                let message = ev!(self.text(message, st, frame));
                let ic = ev!(self.bool(ignore_case, st, frame));
                let mut allowed = Vec::new();
                for v in values {
                    allowed.push(ev!(self.text(v, st, frame)));
                }
                let response = ErrorResponse {
                    status: code,
                    message: message.clone(),
                };
                match st.request.get(&name) {
                    None => Flow::Error(
                        step_error(
                            step,
                            section,
                            "HeaderNotFound",
                            format!("Header {name} was not found in the request. Access denied."),
                        ),
                        response,
                    ),
                    Some(vals) => {
                        let ok = allowed.is_empty()
                            || vals.iter().flat_map(|v| v.split(',')).any(|v| {
                                let v = v.trim();
                                allowed.iter().any(|a| {
                                    if ic {
                                        a.eq_ignore_ascii_case(v)
                                    } else {
                                        a == v
                                    }
                                })
                            });
                        if ok {
                            Flow::Continue
                        } else {
                            let shown = vals.join(",");
                            Flow::Error(
                                step_error(
                                    step,
                                    section,
                                    "HeaderValueNotAllowed",
                                    format!(
                                        "Header {name} value of {shown} is not allowed. Access denied."
                                    ),
                                ),
                                response,
                            )
                        }
                    }
                }
            }
            StepKind::IpFilter {
                action,
                addresses,
                ranges,
            } => {
                let action = ev!(self.text(action, st, frame));
                let Ok(ip) = st.ip.trim().parse::<IpAddr>() else {
                    return Flow::Error(
                        step_error(
                            step,
                            section,
                            "FailedToParseCallerIP",
                            "Failed to establish IP address for the caller. Access denied.".into(),
                        ),
                        ErrorResponse {
                            status: 403,
                            message:
                                "Failed to establish IP address for the caller. Access denied."
                                    .into(),
                        },
                    );
                };
                let mut listed = false;
                for a in addresses {
                    let a = ev!(self.text(a, st, frame));
                    listed |= a.trim().parse::<IpAddr>().is_ok_and(|x| same_ip(x, ip));
                }
                for (from, to) in ranges {
                    let (f, t) = (
                        ev!(self.text(from, st, frame)),
                        ev!(self.text(to, st, frame)),
                    );
                    if let (Ok(f), Ok(t)) = (f.trim().parse::<IpAddr>(), t.trim().parse::<IpAddr>())
                    {
                        listed |= in_range(ip, f, t);
                    }
                }
                let forbid = action.trim().eq_ignore_ascii_case("forbid");
                if forbid && listed {
                    let m = "Caller IP address is blocked. Access denied.".to_string();
                    Flow::Error(
                        step_error(step, section, "CallerIpBlocked", m.clone()),
                        ErrorResponse {
                            status: 403,
                            message: m,
                        },
                    )
                } else if !forbid && !listed {
                    let m = format!("Caller IP address {ip} is not allowed. Access denied.");
                    Flow::Error(
                        step_error(step, section, "CallerIpNotAllowed", m.clone()),
                        ErrorResponse {
                            status: 403,
                            message: m,
                        },
                    )
                } else {
                    Flow::Continue
                }
            }
            StepKind::Trace {
                source,
                severity,
                message,
            } => {
                let source = ev!(self.text(source, st, frame));
                let severity = ev!(self.text(severity, st, frame));
                let message = match message {
                    Some(m) => ev!(self.text(m, st, frame)),
                    None => String::new(),
                };
                st.traces.push(TraceEntry {
                    source,
                    severity,
                    message,
                });
                Flow::Continue
            }
            StepKind::Unsupported => Flow::Error(
                step_error(
                    step,
                    section,
                    "PolicyNotSupported",
                    format!("Turnpike cannot run the `{}` policy yet.", step.policy),
                ),
                internal_error(),
            ),
        }
    }

    /// Steps that do I/O (or hold steps that do): forwarding, and `choose` around it.
    async fn step_async(&self, step: &Step, section: Section, st: &mut RequestState) -> Flow {
        match &step.kind {
            StepKind::Forward {
                timeout,
                fail_on_error,
            } => {
                let (timeout, fail) = {
                    let mut frame = Frame::default();
                    let t = match timeout {
                        Some(t) => match self.int(t, st, &mut frame) {
                            Ok(v) => Some(v),
                            Err(e) => return Self::fail(step, section, e),
                        },
                        None => None,
                    };
                    let f = match fail_on_error {
                        Some(f) => match self.bool(f, st, &mut frame) {
                            Ok(v) => Some(v),
                            Err(e) => return Self::fail(step, section, e),
                        },
                        None => None,
                    };
                    (t, f)
                };
                self.forward(st, timeout, fail, Some(step)).await
            }
            StepKind::BaseForward => self.forward(st, None, None, Some(step)).await,
            StepKind::Choose { whens, otherwise } => {
                let chosen = {
                    let mut frame = Frame::default();
                    let mut chosen = None;
                    for (k, (cond, _)) in whens.iter().enumerate() {
                        match self.bool(cond, st, &mut frame) {
                            Ok(true) => {
                                chosen = Some(k);
                                break;
                            }
                            Ok(false) => {}
                            Err(e) => return Self::fail(step, section, e),
                        }
                    }
                    chosen
                };
                match chosen {
                    Some(k) => self.steps(&whens[k].1, section, st).await,
                    None => self.steps(otherwise, section, st).await,
                }
            }
            _ => self.run_sync(std::slice::from_ref(step), section, st),
        }
    }

    async fn forward(
        &self,
        st: &mut RequestState,
        timeout: Option<i64>,
        fail_on_error: Option<bool>,
        step: Option<&Step>,
    ) -> Flow {
        let policy = step.map_or("forward-request", |s| s.policy.as_str());
        let path = step.map_or("", |s| s.path.as_str());
        let scope = step.map_or(String::new(), |s| s.scope.clone());
        let policy_id = step.map_or(String::new(), |s| s.id.clone());
        let base = match &st.backend_url {
            Some(b) => b.clone(),
            None if st.host_fallback => format!("{}://{}", st.url.scheme, st.url.host),
            None => {
                return Flow::Error(
                    LastError {
                        source: policy.into(),
                        reason: "BackendConnectionFailure".into(),
                        message: "Error occurred while calling backend service. The API has no service URL and no policy set a backend.".into(),
                        scope,
                        section: "backend".into(),
                        path: path.into(),
                        policy_id,
                    },
                    ErrorResponse {
                        status: 502,
                        message: "Bad Gateway".into(),
                    },
                );
            }
        };
        // The backend gets the operation's part of the path: the API's URL suffix is replaced
        // by the backend's base URL.
        let suffix = st
            .api
            .as_ref()
            .and_then(|a| a.iter().find(|(k, _)| k == "Path"))
            .and_then(|(_, v)| match v {
                Stored::Str(s) => Some(s.trim_matches('/').to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let mut backend_path = st.url.path.clone();
        if st.backend_url.is_some()
            && !st.url_rewritten
            && let Some(prefix) = &st.api_prefix
        {
            // The gateway knows which part of the path matched the API (its path, version
            // segment and `;rev=`).
            if let Some(rest) = backend_path.strip_prefix(prefix.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                backend_path = if rest.is_empty() {
                    "/".to_string()
                } else {
                    rest.to_string()
                };
            }
        } else if st.backend_url.is_some()
            && !st.url_rewritten
            && !suffix.is_empty()
            && let Some(rest) = backend_path.strip_prefix(&format!("/{suffix}"))
            && (rest.is_empty() || rest.starts_with('/'))
        {
            backend_path = if rest.is_empty() {
                "/".to_string()
            } else {
                rest.to_string()
            };
        }
        // The query as the caller wrote it, unless a policy changed it.
        let query = match &st.raw_query {
            Some(raw) if !raw.is_empty() => format!("?{raw}"),
            Some(_) => String::new(),
            None => st.url.query_string(),
        };
        let url = format!("{}{}{}", base.trim_end_matches('/'), backend_path, query);
        if st.record_forwarded {
            st.forwarded = Some((st.method.clone(), url.clone(), st.request.clone()));
        }
        let req = BackendRequest {
            method: st.method.clone(),
            url,
            message: &st.request,
            timeout_secs: timeout.map_or(300.0, |t| t as f64),
        };
        let err = |reason: &str, message: String, status: i32| {
            Flow::Error(
                LastError {
                    source: policy.into(),
                    reason: reason.into(),
                    message,
                    scope: scope.clone(),
                    section: "backend".into(),
                    path: path.into(),
                    policy_id: policy_id.clone(),
                },
                ErrorResponse {
                    status,
                    message: if status == 504 {
                        "Gateway Timeout".into()
                    } else {
                        "Bad Gateway".into()
                    },
                },
            )
        };
        let sent = self.backend.send(req).await;
        match sent {
            Ok(r) => {
                st.status = r.status;
                st.reason = if r.reason.is_empty() {
                    reason_of(r.status).into()
                } else {
                    r.reason
                };
                // A backend that streams leaves the body out; the response keeps it until a
                // policy replaces the response.
                st.backend_body = r.message.body.is_none();
                st.response = r.message;
                if fail_on_error == Some(true) && (400..600).contains(&st.status) {
                    return err(
                        "BackendStatusCode",
                        format!("Backend service responded with status code {}.", st.status),
                        st.status,
                    );
                }
                Flow::Continue
            }
            Err(BackendError::Timeout) => err(
                "Timeout",
                "Request to the backend service timed out.".into(),
                504,
            ),
            Err(BackendError::Connection(m)) => err(
                "BackendConnectionFailure",
                format!("Error occurred while calling backend service. {m}"),
                502,
            ),
        }
    }
}

/// Headers `set-header` emits as repeated lines rather than one comma-joined value.
const REPEATED_HEADERS: &[&str] = &[
    "User-Agent",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Cookie",
    "Set-Cookie",
    "Warning",
    "Date",
    "Expires",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Last-Modified",
    "Retry-After",
];

/// `exists-action` of `set-header` and `set-query-parameter`; `apply(None)` removes.
fn apply_exists_action(
    action: &str,
    current: Option<Vec<String>>,
    values: Vec<String>,
    mut apply: impl FnMut(Option<Vec<String>>),
) {
    match action.trim().to_ascii_lowercase().as_str() {
        "delete" => apply(None),
        "skip" => {
            if current.is_none() {
                apply(Some(values));
            }
        }
        "append" => {
            let mut all = current.unwrap_or_default();
            all.extend(values);
            apply(Some(all));
        }
        _ => apply(Some(if values.is_empty() {
            vec![String::new()]
        } else {
            values
        })),
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    ip_number(a) == ip_number(b)
}

/// An address as a number, IPv4 mapped into IPv6's space.
fn ip_number(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)) | 0xffff_0000_0000,
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(m) => u128::from(u32::from(m)) | 0xffff_0000_0000,
            None => u128::from(v),
        },
    }
}

fn in_range(ip: IpAddr, from: IpAddr, to: IpAddr) -> bool {
    let (x, lo, hi) = (ip_number(ip), ip_number(from), ip_number(to));
    lo <= x && x <= hi
}

/// `rewrite-uri`: the template's path (with `{param}` from the matched parameters) and query;
/// the original query parameters the template does not set follow when `copy` is true.
fn rewrite(st: &mut RequestState, template: &str, copy: bool) {
    let mut t = template.trim().to_string();
    for (k, v) in &st.matched {
        t = t.replace(&format!("{{{k}}}"), v);
    }
    let (path, query) = match t.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (t.clone(), String::new()),
    };
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        params.push((k.to_string(), vec![v.to_string()]));
    }
    if copy {
        // Parameters the operation's template matched in the query are not "unmatched".
        let template = st
            .operation
            .as_ref()
            .and_then(|o| o.iter().find(|(k, _)| k == "UrlTemplate"))
            .and_then(|(_, v)| match v {
                Stored::Str(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let matched: Vec<String> = template
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .map(|p| p.split('=').next().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in st.url.query.clone() {
            if !params.iter().any(|(n, _)| n.eq_ignore_ascii_case(&k))
                && !matched.iter().any(|m| m.eq_ignore_ascii_case(&k))
            {
                params.push((k, v));
            }
        }
    }
    let url = Arc::make_mut(&mut st.url);
    url.path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    url.query = params;
    st.url_rewritten = true;
    st.raw_query = None;
}

/// Runs a future to completion on this thread (tests and the command line; the gateway uses
/// its runtime).
pub fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}
