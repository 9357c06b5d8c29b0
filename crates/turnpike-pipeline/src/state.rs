//! The state of one request as the pipeline changes it: owned, `Send` data only.

use std::rc::Rc;

use turnpike_interp::context::{Context, Headers, HostRef, Message, Named, Url};
use turnpike_interp::dotnet::datetime::{DateTime, TimeSpan};
use turnpike_interp::value::{Obj, Value};

/// A value stored outside an evaluation (`context.Variables`, named data). Reference objects
/// are kept as their serialized form: a JSON token as its JSON text, which the next
/// expression reads back as a new token.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    /// `null`
    Null,
    /// `bool`
    Bool(bool),
    /// `int`
    Int(i32),
    /// `long`
    Long(i64),
    /// `double`
    Double(f64),
    /// `decimal`, as its invariant text.
    Decimal(String),
    /// `string`
    Str(String),
    /// `char`
    Char(u16),
    /// `DateTime` ticks and whether UTC.
    DateTime(i64, bool),
    /// `TimeSpan` ticks.
    TimeSpan(i64),
    /// `Guid`
    Guid(u128),
    /// `string[]`
    StrArray(Vec<String>),
    /// A Newtonsoft JSON token, as compact JSON.
    Json(String),
    /// Named data (`IApi`, `IUser`, a `Jwt`...).
    Named(Vec<(String, Stored)>),
    /// A sequence of other values (`IUser.Groups`).
    List(Vec<Stored>),
}

impl Stored {
    /// Stores an interpreter value.
    pub fn from_value(v: &Value) -> Stored {
        use turnpike_interp::dotnet::datetime::Kind;
        match v {
            Value::Null => Stored::Null,
            Value::Bool(b) => Stored::Bool(*b),
            Value::Int(i) => Stored::Int(*i),
            Value::Long(i) => Stored::Long(*i),
            Value::Short(i) => Stored::Int(i32::from(*i)),
            Value::Byte(i) => Stored::Int(i32::from(*i)),
            Value::SByte(i) => Stored::Int(i32::from(*i)),
            Value::UShort(i) => Stored::Int(i32::from(*i)),
            Value::UInt(i) => Stored::Long(i64::from(*i)),
            Value::ULong(i) => Stored::Long(*i as i64),
            Value::Float(f) => Stored::Double(f64::from(*f)),
            Value::Double(f) => Stored::Double(*f),
            Value::Decimal(d) => Stored::Decimal(d.to_string()),
            Value::Char(c) => Stored::Char(*c),
            Value::Str(s) => Stored::Str(s.to_string()),
            Value::DateTime(d) => Stored::DateTime(d.ticks, d.kind == Kind::Utc),
            Value::TimeSpan(t) => Stored::TimeSpan(t.ticks),
            Value::Guid(g) => Stored::Guid(*g),
            Value::Array(a) => Stored::StrArray(
                a.items
                    .borrow()
                    .iter()
                    .map(|x| match x {
                        Value::Str(s) => s.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect(),
            ),
            Value::Obj(o) => match &**o {
                Obj::Json(j) => {
                    let lib = turnpike_ir::Library::get();
                    let text = turnpike_interp::eval::with_interp(lib, |it| {
                        turnpike_interp::natives::json::json_text(it, j)
                    });
                    Stored::Json(text)
                }
                Obj::Host(HostRef::Named(n)) => Stored::Named(
                    n.props
                        .iter()
                        .map(|(k, v)| (k.clone(), Stored::from_value(v)))
                        .collect(),
                ),
                _ => Stored::Str(turnpike_interp::eval::to_string_outside(
                    turnpike_ir::Library::get(),
                    Rc::new(Context::default()),
                    v,
                )),
            },
            other => Stored::Str(format!("{other:?}")),
        }
    }

    /// The value an expression sees.
    pub fn to_value(&self) -> Value {
        use turnpike_interp::dotnet::datetime::Kind;
        match self {
            Stored::Null => Value::Null,
            Stored::Bool(b) => Value::Bool(*b),
            Stored::Int(i) => Value::Int(*i),
            Stored::Long(i) => Value::Long(*i),
            Stored::Double(f) => Value::Double(*f),
            Stored::Decimal(d) => d.parse().map_or(Value::Null, Value::Decimal),
            Stored::Str(s) => Value::str(s),
            Stored::Char(c) => Value::Char(*c),
            Stored::DateTime(t, utc) => Value::DateTime(DateTime {
                ticks: *t,
                kind: if *utc { Kind::Utc } else { Kind::Unspecified },
            }),
            Stored::TimeSpan(t) => Value::TimeSpan(TimeSpan { ticks: *t }),
            Stored::Guid(g) => Value::Guid(*g),
            Stored::StrArray(a) => {
                Value::array(turnpike_ir::Ty::String, a.iter().map(Value::str).collect())
            }
            Stored::Json(text) => turnpike_interp::natives::json::parse(text)
                .map_or(Value::Null, |j| Value::obj(Obj::Json(j))),
            Stored::Named(props) => Value::obj(Obj::Host(HostRef::Named(Rc::new(Named {
                props: props
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            })))),
            Stored::List(items) => Value::array(
                turnpike_ir::Ty::Object,
                items.iter().map(Stored::to_value).collect(),
            ),
        }
    }
}

/// `context.LastError`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LastError {
    /// The policy or built-in step that failed.
    pub source: String,
    /// Machine-readable reason (`ExpressionValueEvaluationFailure`, `HeaderNotFound`...).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `global`, `product`, `api` or `operation` (empty for a standalone document).
    pub scope: String,
    /// `inbound`, `backend`, `outbound` or `on-error`.
    pub section: String,
    /// Where in the section: `choose[1]/when[2]/set-header[1]`.
    pub path: String,
    /// The failing policy's `id` attribute.
    pub policy_id: String,
}

/// A message: headers (names keep their case; lookups ignore it) and a body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpMessage {
    /// Headers in order, each with its values. Shared with the frames built from the state
    /// (no copy per frame); a change copies them only while a frame still holds them.
    pub headers: std::sync::Arc<Vec<(String, Vec<String>)>>,
    /// The body, when there is one.
    pub body: Option<String>,
}

impl HttpMessage {
    /// The values of a header.
    pub fn get(&self, name: &str) -> Option<&Vec<String>> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Removes a header.
    pub fn remove(&mut self, name: &str) {
        if self.get(name).is_some() {
            std::sync::Arc::make_mut(&mut self.headers)
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
    }

    /// Sets a header to exactly these values.
    pub fn set(&mut self, name: &str, values: Vec<String>) {
        let headers = std::sync::Arc::make_mut(&mut self.headers);
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(h) => h.1 = values,
            None => headers.push((name.to_string(), values)),
        }
    }
}

/// A trace written by the `trace` policy or `context.Trace`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    /// The `source` attribute (empty for `context.Trace`).
    pub source: String,
    /// `verbose`, `information` or `error`.
    pub severity: String,
    /// The message.
    pub message: String,
}

/// Everything the pipeline reads and changes for one request.
#[derive(Clone, Debug)]
pub struct RequestState {
    /// The request method.
    pub method: String,
    /// The request URL (what the backend will get, after rewrites).
    pub url: std::sync::Arc<Url>,
    /// The URL as the caller sent it.
    pub original_url: std::sync::Arc<Url>,
    /// The request headers and body.
    pub request: HttpMessage,
    /// The response headers and body.
    pub response: HttpMessage,
    /// The response status code (0 until there is a response).
    pub status: i32,
    /// The response reason phrase.
    pub reason: String,
    /// `context.Variables`, in insertion order.
    pub variables: Vec<(String, Stored)>,
    /// The caller's address.
    pub ip: String,
    /// Path parameters the operation template matched.
    pub matched: Vec<(String, String)>,
    /// The backend base URL (`set-backend-service`, or the API's service URL).
    pub backend_url: Option<String>,
    /// Backends by id (`backends/` of an artifact folder) for `set-backend-service backend-id`.
    pub backends: Vec<(String, String)>,
    /// `context.Api`, `Operation`, `Product`, `Subscription`, `User` (absent: null).
    pub api: Option<Vec<(String, Stored)>>,
    /// `context.Operation`
    pub operation: Option<Vec<(String, Stored)>>,
    /// `context.Product`
    pub product: Option<Vec<(String, Stored)>>,
    /// `context.Subscription`
    pub subscription: Option<Vec<(String, Stored)>>,
    /// `context.User`
    pub user: Option<Vec<(String, Stored)>>,
    /// Traces in order.
    pub traces: Vec<TraceEntry>,
    /// `context.LastError` once an error happened.
    pub last_error: Option<LastError>,
    /// `context.RequestId`
    pub request_id: u128,
    /// The clock: `DateTime.UtcNow` and `context.Timestamp`.
    pub now: DateTime,
    /// The request as the backend received it, once forwarded (when `record_forwarded`).
    pub forwarded: Option<(String, String, HttpMessage)>,
    /// Whether `forward-request` without a backend URL sends the request to the request's own
    /// host (policy tests do). The gateway turns this off: a caller's `Host` header must never
    /// choose where the gateway connects.
    pub host_fallback: bool,
    /// Whether to keep a copy of the forwarded request in `forwarded` (tests read it; the
    /// gateway does not).
    pub record_forwarded: bool,
    /// Whether a policy set the response's status or body (tells whether `on-error` answered).
    pub answered: bool,
    /// Whether the response's body is the one the backend is streaming (the backend gave no
    /// buffered body, and no policy has replaced it since).
    pub backend_body: bool,
    /// The start of the request path that matched the API (`/orders/v2` or
    /// `/orders;rev=2`), when the gateway routed the call; the backend gets the rest.
    pub api_prefix: Option<String>,
    /// Whether `rewrite-uri` replaced the path: it is then relative to the backend's URL.
    pub url_rewritten: bool,
    /// The query string exactly as the caller sent it (without `?`), while no policy changed
    /// the query; the backend then gets it unchanged. `None`: build it from `url.query`.
    pub raw_query: Option<String>,
}

impl RequestState {
    /// A request to `url` with `method`.
    pub fn new(method: &str, url: &str) -> Self {
        // Both start as one shared value; a rewrite copies (`Arc::make_mut`).
        let u = std::sync::Arc::new(Url::parse(url));
        RequestState {
            method: method.to_string(),
            url: std::sync::Arc::clone(&u),
            original_url: u,
            request: HttpMessage::default(),
            response: HttpMessage::default(),
            status: 0,
            reason: String::new(),
            variables: Vec::new(),
            ip: "127.0.0.1".into(),
            matched: Vec::new(),
            backend_url: None,
            backends: Vec::new(),
            api: None,
            operation: None,
            product: None,
            subscription: None,
            user: None,
            traces: Vec::new(),
            last_error: None,
            request_id: 0,
            now: DateTime::utc_now(),
            forwarded: None,
            record_forwarded: true,
            host_fallback: true,
            answered: false,
            backend_body: false,
            api_prefix: None,
            url_rewritten: false,
            raw_query: None,
        }
    }

    /// Whether some variable holds an object an expression could change in place (a JSON
    /// token, an array, named data).
    pub fn has_reference_variables(&self) -> bool {
        self.variables.iter().any(|(_, v)| {
            matches!(
                v,
                Stored::Json(_) | Stored::StrArray(_) | Stored::Named(_) | Stored::List(_)
            )
        })
    }

    /// Reads a variable.
    pub fn variable(&self, name: &str) -> Option<&Stored> {
        self.variables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Sets a variable.
    pub fn set_variable(&mut self, name: &str, v: Stored) {
        match self.variables.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = v,
            None => self.variables.push((name.to_string(), v)),
        }
    }

    /// The interpreter's `context` for this state: a frame for one synchronous run.
    pub fn context(&self) -> Context {
        let named = |p: &Option<Vec<(String, Stored)>>| {
            p.as_ref().map(|props| Named {
                props: props
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            })
        };
        let mut ctx = Context {
            method: self.method.clone(),
            url: self.url.clone(),
            original_url: self.original_url.clone(),
            ip_address: self.ip.clone(),
            matched_parameters: self.matched.clone(),
            request: Message {
                headers: Headers(std::sync::Arc::clone(&self.request.headers)),
                body: self.request.body.clone(),
                status: 0,
                reason: String::new(),
            },
            response: Message {
                headers: Headers(std::sync::Arc::clone(&self.response.headers)),
                body: self.response.body.clone(),
                status: self.status,
                reason: self.reason.clone(),
            },
            api: named(&self.api),
            operation: named(&self.operation),
            product: named(&self.product),
            subscription: named(&self.subscription),
            user: named(&self.user),
            request_id: self.request_id,
            timestamp: Some(self.now),
            // Every field is written out: `..Context::default()` would build (and drop) the
            // ones above a second time, on every frame.
            variables: std::cell::RefCell::new(turnpike_interp::value::Dict::new(false)),
            groups: Vec::new(),
            deployment: Named::default(),
            last_error: None,
            elapsed: TimeSpan { ticks: 0 },
            tracing: false,
            traces: std::cell::RefCell::new(Vec::new()),
        };
        if let Some(e) = &self.last_error {
            ctx.last_error = Some(Named {
                props: vec![
                    ("Source".into(), Value::str(&e.source)),
                    ("Reason".into(), Value::str(&e.reason)),
                    ("Message".into(), Value::str(&e.message)),
                    ("Scope".into(), Value::str(&e.scope)),
                    ("Section".into(), Value::str(&e.section)),
                    ("Path".into(), Value::str(&e.path)),
                    ("PolicyId".into(), Value::str(&e.policy_id)),
                ],
            });
        }
        {
            let mut vars = ctx.variables.borrow_mut();
            for (k, v) in &self.variables {
                vars.set(Value::str(k), v.to_value());
            }
        }
        ctx
    }
}
