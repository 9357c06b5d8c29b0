//! The server: accept loop (HTTP/1.1 and cleartext HTTP/2 on one port), the request path
//! (route, key, pipeline, response), the admin listener, reload and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::FutureExt as _;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use turnpike_interp::Options as EvalOptions;
use turnpike_interp::dotnet::datetime::DateTime;
use turnpike_pipeline::{LastError, RequestState, Stored, error_body};

use crate::accesslog::{AccessLog, Entry, Logged};
use crate::generation::{
    ApiEntry, Compiled, Generation, KeyIndex, LoadError, Scope, SubscriptionEntry, api_props,
    operation_props, product_props, subscription_props,
};
use crate::keys::KeyStore;
use crate::net::{Cidr, client_ip};
use crate::routing::{RouteInput, percent_decode, route};
use crate::upstream::{OutBody, Streamed, Upstream, UpstreamOptions, skip_header};

/// How the gateway runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The artifact folder.
    pub dir: PathBuf,
    /// An APIOps overrides file.
    pub overrides: Option<PathBuf>,
    /// Where the key database lives.
    pub data_dir: PathBuf,
    /// Write the access log (to standard output unless `access_log_to` says otherwise).
    pub access_log: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// The backend client.
    pub upstream: UpstreamOptions,
    /// Largest request body buffered for a policy that reads it.
    pub max_request_body: usize,
    /// Run policy expressions as native code where the JIT covers them.
    pub jit: bool,
}

impl Options {
    /// Options for a folder, with the defaults.
    pub fn new(dir: PathBuf, data_dir: PathBuf) -> Options {
        Options {
            dir,
            overrides: None,
            data_dir,
            access_log: true,
            trusted_proxies: Vec::new(),
            upstream: UpstreamOptions::default(),
            max_request_body: 4 * 1024 * 1024,
            jit: true,
        }
    }
}

/// What a reload did.
#[derive(Debug)]
pub struct Reloaded {
    /// API revisions served.
    pub apis: usize,
    /// Operations served.
    pub operations: usize,
    /// Warnings, rendered.
    pub warnings: Vec<String>,
}

/// Everything requests share.
#[derive(Debug)]
pub struct Shared {
    /// The folder and the keys serving now, swapped together so that a call never pairs
    /// one generation's routes with another's keys.
    live: ArcSwap<Live>,
    store: Mutex<KeyStore>,
    upstream: Upstream,
    options: Options,
    log: Option<AccessLog>,
    /// Serializes reloads.
    reloading: Mutex<()>,
    request_seed: u128,
    request_counter: AtomicU64,
    /// Generations loaded so far (the first is 1).
    pub loads: AtomicU64,
}

/// One generation with its keys.
#[derive(Debug)]
struct Live {
    generation: Arc<Generation>,
    keys: Arc<KeyIndex>,
}

/// A running gateway's state; cheap to clone.
#[derive(Clone, Debug)]
pub struct Gateway {
    shared: Arc<Shared>,
}

impl Gateway {
    /// Loads the folder and the keys. The access log, when on, goes to `log_out`.
    pub fn load(
        options: Options,
        log_out: Option<Box<dyn std::io::Write + Send>>,
    ) -> Result<Gateway, LoadError> {
        let store = KeyStore::open(&options.data_dir).map_err(|e| LoadError {
            diagnostics: vec![format!("error: {e}")],
            errors: 1,
        })?;
        let mut generation = Generation::load_with(
            &options.dir,
            options.overrides.as_deref(),
            &store,
            options.jit,
        )?;
        let keys = std::mem::take(&mut generation.keys);
        let mut seed = [0u8; 16];
        getrandom::fill(&mut seed).map_err(|e| LoadError {
            diagnostics: vec![format!("error: no random source: {e}")],
            errors: 1,
        })?;
        let log = if options.access_log {
            Some(AccessLog::spawn(
                log_out.unwrap_or_else(|| Box::new(std::io::stdout())),
            ))
        } else {
            None
        };
        Ok(Gateway {
            shared: Arc::new(Shared {
                live: ArcSwap::from_pointee(Live {
                    generation: Arc::new(generation),
                    keys: Arc::new(keys),
                }),
                store: Mutex::new(store),
                upstream: Upstream::new(options.upstream.clone()),
                options,
                log,
                reloading: Mutex::new(()),
                request_seed: u128::from_le_bytes(seed),
                request_counter: AtomicU64::new(0),
                loads: AtomicU64::new(1),
            }),
        })
    }

    /// The generation serving now.
    pub fn generation(&self) -> Arc<Generation> {
        Arc::clone(&self.shared.live.load().generation)
    }

    /// The subscriptions and their keys now.
    pub fn keys(&self) -> Arc<KeyIndex> {
        Arc::clone(&self.shared.live.load().keys)
    }

    /// The locks a change of the live state takes, always in this order (reload, then the key
    /// store), so that a reload and a key refresh never overwrite each other or deadlock.
    fn lock_for_change(
        &self,
    ) -> (
        std::sync::MutexGuard<'_, ()>,
        std::sync::MutexGuard<'_, KeyStore>,
    ) {
        let one = self
            .shared
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = self
            .shared
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (one, store)
    }

    /// Recompiles the folder and swaps it in; on failure the old one keeps serving. Blocking:
    /// call it off the request path.
    pub fn reload(&self) -> Result<Reloaded, LoadError> {
        let (_one, store) = self.lock_for_change();
        let o = &self.shared.options;
        let mut generation = Generation::load_with(&o.dir, o.overrides.as_deref(), &store, o.jit)?;
        let keys = std::mem::take(&mut generation.keys);
        let info = Reloaded {
            apis: generation.apis.len(),
            operations: generation.apis.iter().map(|a| a.operations.len()).sum(),
            warnings: generation.warnings.clone(),
        };
        self.shared.live.store(Arc::new(Live {
            generation: Arc::new(generation),
            keys: Arc::new(keys),
        }));
        self.shared.loads.fetch_add(1, Ordering::Relaxed);
        Ok(info)
    }

    /// Re-reads the keys from the database (after `turnpike keys` changed them).
    pub fn refresh_keys(&self) -> Result<(), String> {
        let (_one, store) = self.lock_for_change();
        let live = self.shared.live.load_full();
        let keys = live.keys.refresh(&store)?;
        self.shared.live.store(Arc::new(Live {
            generation: Arc::clone(&live.generation),
            keys: Arc::new(keys),
        }));
        Ok(())
    }

    /// The key database's change counter ([`KeyStore::data_version`]).
    pub fn keys_version(&self) -> Option<i64> {
        self.shared
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .data_version()
            .ok()
    }

    /// Writes out the access log's buffered lines (at shutdown).
    pub fn flush_log(&self) {
        if let Some(l) = &self.shared.log {
            l.flush();
            if l.dropped() > 0 {
                note!(
                    "{} access-log lines were dropped: the log could not keep up",
                    l.dropped()
                );
            }
        }
    }

    /// The key database file.
    pub fn key_db(&self) -> PathBuf {
        self.shared.options.data_dir.join(crate::keys::DB_FILE)
    }

    /// The folder served.
    pub fn dir(&self) -> PathBuf {
        self.shared.options.dir.clone()
    }

    /// Serves calls on `listener` until `shutdown` resolves; then stops accepting and waits
    /// (up to `grace`) for calls in flight.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
        grace: Duration,
    ) {
        let this = self.clone();
        serve_with(listener, shutdown, grace, move |peer, req| {
            let g = this.clone();
            async move { Ok::<_, Infallible>(g.handle(peer, req).await) }
        })
        .await;
    }

    /// Serves the admin endpoints (`GET /health`, `POST /reload`).
    pub async fn serve_admin(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let this = self.clone();
        serve_with(
            listener,
            shutdown,
            Duration::from_secs(5),
            move |_peer, req| {
                let g = this.clone();
                async move { Ok::<_, Infallible>(g.admin(req).await) }
            },
        )
        .await;
    }

    async fn admin(&self, req: Request<Incoming>) -> Response<Logged<OutBody>> {
        let json = |status: StatusCode, v: serde_json::Value| {
            let mut r = Response::new(Logged::new(
                Either::Left(Full::new(Bytes::from(format!("{v}\n")))),
                None,
            ));
            *r.status_mut() = status;
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            r
        };
        match (req.method().as_str(), req.uri().path()) {
            ("GET", "/health" | "/health/live" | "/health/ready") => {
                let g = self.generation();
                json(
                    StatusCode::OK,
                    serde_json::json!({
                        "status": "ok",
                        "apis": g.apis.len(),
                        "generation": self.shared.loads.load(Ordering::Relaxed),
                    }),
                )
            }
            ("POST", "/reload") => {
                let g = self.clone();
                match tokio::task::spawn_blocking(move || g.reload()).await {
                    Ok(Ok(r)) => json(
                        StatusCode::OK,
                        serde_json::json!({
                            "reloaded": true,
                            "apis": r.apis,
                            "operations": r.operations,
                            "warnings": r.warnings,
                        }),
                    ),
                    Ok(Err(e)) => {
                        note!("reload failed; the previous folder keeps serving\n{e}");
                        json(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            serde_json::json!({
                                "reloaded": false,
                                "errors": e.errors,
                                "diagnostics": e.diagnostics,
                            }),
                        )
                    }
                    Err(_) => json(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        serde_json::json!({"reloaded": false, "errors": 1}),
                    ),
                }
            }
            (_, "/health" | "/health/live" | "/health/ready" | "/reload") => json(
                StatusCode::METHOD_NOT_ALLOWED,
                serde_json::json!({"statusCode": 405, "message": "Method not allowed"}),
            ),
            _ => json(
                StatusCode::NOT_FOUND,
                serde_json::json!({"statusCode": 404, "message": "Resource not found"}),
            ),
        }
    }

    /// One call, with a panic turned into APIM's 500 answer.
    pub async fn handle(
        &self,
        peer: SocketAddr,
        req: Request<Incoming>,
    ) -> Response<Logged<OutBody>> {
        let start = Instant::now();
        let time = SystemTime::now();
        let request_id = self.next_request_id();
        // Only what the access log needs, and only when it is on.
        let (method, path) = if self.shared.log.is_some() {
            (
                req.method().as_str().to_string(),
                req.uri().path().to_string(),
            )
        } else {
            Default::default()
        };
        match AssertUnwindSafe(self.call(peer, req, request_id, start, time))
            .catch_unwind()
            .await
        {
            Ok(r) => r,
            Err(_) => {
                let entry = Entry {
                    request_id,
                    method,
                    path,
                    client_ip: Some(peer.ip()),
                    status: 500,
                    error_reason: "InternalError".into(),
                    ..Entry::default()
                };
                self.error(
                    500,
                    "Internal server error",
                    request_id,
                    entry,
                    start,
                    time,
                    &[],
                )
            }
        }
    }

    fn next_request_id(&self) -> u128 {
        let n = self.shared.request_counter.fetch_add(1, Ordering::Relaxed);
        // Distinct per process run and per call; version-4-like bits do not matter here.
        let mixed = u128::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        self.shared.request_seed ^ mixed
    }

    #[allow(clippy::too_many_arguments)]
    fn error(
        &self,
        status: u16,
        message: &str,
        request_id: u128,
        mut entry: Entry,
        start: Instant,
        time: SystemTime,
        extra: &[(&str, String)],
    ) -> Response<Logged<OutBody>> {
        entry.status = status;
        let body = error_body(i32::from(status), message, request_id);
        let log = self.shared.log.clone().map(|l| (l, entry, start, time));
        let mut r = Response::new(Logged::new(Either::Left(Full::new(Bytes::from(body))), log));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = r.headers_mut();
        h.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        for (k, v) in extra {
            if let (Ok(k), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(v),
            ) {
                h.append(k, v);
            }
        }
        r
    }

    async fn call(
        &self,
        peer: SocketAddr,
        req: Request<Incoming>,
        request_id: u128,
        start: Instant,
        time: SystemTime,
    ) -> Response<Logged<OutBody>> {
        let live = self.shared.live.load_full();
        let (generation, keys) = (&live.generation, &live.keys);
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str();
        let path = parts.uri.path();
        let query = parse_query(parts.uri.query().unwrap_or_default());
        let header = |name: &str| -> Option<String> {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let ip = client_ip(
            peer.ip(),
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok()),
            &self.shared.options.trusted_proxies,
        );
        let logging = self.shared.log.is_some();
        let mut entry = if logging {
            Entry {
                request_id,
                method: method.to_string(),
                path: path.to_string(),
                client_ip: Some(ip),
                bytes_in: Some(Arc::new(AtomicU64::new(0))),
                ..Entry::default()
            }
        } else {
            Entry::default()
        };
        // Only a `Host` that is a valid authority goes into the URL: a `/` in it must not move
        // into the path.
        let host = || {
            header("host")
                .filter(|h| h.parse::<http::uri::Authority>().is_ok())
                .or_else(|| parts.uri.authority().map(|a| a.as_str().to_string()))
                .unwrap_or_else(|| "localhost".into())
        };
        // The gateway itself speaks cleartext HTTP; behind a trusted proxy that terminated TLS,
        // `X-Forwarded-Proto` tells the scheme the caller used.
        let scheme = if crate::net::is_trusted(peer.ip(), &self.shared.options.trusted_proxies)
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
        {
            "https"
        } else {
            "http"
        };
        let full_url = |host: String| match parts.uri.query() {
            Some(q) => format!("{scheme}://{host}{path}?{q}"),
            None => format!("{scheme}://{host}{path}"),
        };
        let input = RouteInput {
            method,
            path,
            query: &query,
            header: &header,
            scheme,
        };
        let Ok(r) = route(generation, &input) else {
            entry.error_reason = "OperationNotFound".into();
            let st = base_state(method, &full_url(host()), &parts.headers, ip, request_id);
            let error = LastError {
                source: "configuration".into(),
                reason: "OperationNotFound".into(),
                message: "Unable to match incoming request to an operation.".into(),
                section: "inbound".into(),
                ..LastError::default()
            };
            return Box::pin(self.builtin_error(
                &generation.global,
                st,
                error,
                404,
                &[],
                entry,
                start,
                time,
            ))
            .await;
        };
        let api = r.api;
        let op = r.operation;
        if logging {
            entry.api = api.id.clone();
            entry.revision = api.revision;
            entry.operation = op.id.clone();
        }

        // The subscription key and the product context.
        let key = header(&api.key_header).or_else(|| {
            query
                .iter()
                .find(|(k, _)| k == &api.key_query)
                .map(|(_, v)| v.clone())
        });
        let (product, subscription) = match authorize(api, keys, key.as_deref()) {
            Ok(x) => x,
            Err(denied) => {
                entry.error_reason = denied.reason().into();
                let extra = match denied {
                    Denied::Missing => vec![(
                        "WWW-Authenticate",
                        format!(
                            "AzureApiManagementKey realm=\"{scheme}://{}/{}\",name=\"{}\",type=\"header\"",
                            host(),
                            api.path_text,
                            api.key_header
                        ),
                    )],
                    Denied::Invalid => Vec::new(),
                };
                let mut st = base_state(method, &full_url(host()), &parts.headers, ip, request_id);
                st.api = Some(api_props(api));
                st.operation = Some(operation_props(op));
                st.matched = r.matched;
                let error = LastError {
                    source: "authorization".into(),
                    reason: denied.reason().into(),
                    message: denied.last_error_message().into(),
                    section: "inbound".into(),
                    ..LastError::default()
                };
                return Box::pin(self.builtin_error(
                    &op.pipeline,
                    st,
                    error,
                    401,
                    &extra,
                    entry,
                    start,
                    time,
                ))
                .await;
            }
        };
        if logging {
            entry.product = product.clone().unwrap_or_default();
            entry.subscription = subscription
                .as_ref()
                .map(|(s, _)| s.name.clone())
                .unwrap_or_default();
        }
        let compiled = match &product {
            Some(p) => op.in_product.get(p).unwrap_or(&op.pipeline),
            None => &op.pipeline,
        };
        let prefix = path[..r.prefix_len].to_string();
        if compiled.passthrough
            && let Some(base) = &api.service_url
        {
            let tail = match &path[prefix.len().min(path.len())..] {
                "" => "/",
                t => t,
            };
            let service = api.service_target.get_or_init(|| {
                let uri = base.parse::<hyper::Uri>().ok()?;
                if uri.scheme_str() != Some("http") {
                    return None;
                }
                let pool = self.shared.upstream.pool(uri.authority()?);
                Some((pool, uri.path().trim_end_matches('/').to_string()))
            });
            let Some((pool, base_path)) = service else {
                entry.error_reason = "BackendConnectionFailure".into();
                return self.error(502, "Bad Gateway", request_id, entry, start, time, &[]);
            };
            let mut target = String::with_capacity(base_path.len() + tail.len() + 64);
            target.push_str(base_path);
            target.push_str(tail);
            if let Some(q) = parts.uri.query() {
                target.push('?');
                target.push_str(q);
            }
            // Boxed: the caller's future (moved a few times by the server) stays small.
            return Box::pin(
                self.pass_through(parts, body, target, pool, entry, request_id, start, time),
            )
            .await;
        }

        // The pipeline path holds the request state and the pipeline's own future across its
        // awaits: boxed, so that the passthrough path's future stays small (the server moves a
        // call's future a few times; a large one costs a memcpy each time).
        Box::pin(async {
            // The request state.
            let full = full_url(host());
            let mut st = base_state(method, &full, &parts.headers, ip, request_id);
            st.matched = r.matched;
            st.api_prefix = Some(prefix);
            st.raw_query = Some(parts.uri.query().unwrap_or_default().to_string());
            st.record_forwarded = false;
            st.backend_url = api.service_url.clone();
            // Only the parts of the context model the pipeline reads.
            let reads = compiled.reads;
            if compiled.uses_backend_ids {
                st.backends = generation.backends.clone();
            }
            if reads.api {
                st.api = Some(api_props(api));
            }
            if reads.operation {
                st.operation = Some(operation_props(op));
            }
            if reads.product
                && let Some(p) = product.as_ref().and_then(|p| generation.products.get(p))
            {
                st.product = Some(product_props(p));
            }
            if reads.subscription
                && let Some((s, k)) = &subscription
            {
                st.subscription = Some(subscription_props(s, k));
            }
            if let Some(ex) = &op.example {
                st.set_variable("$mock-example", Stored::Str(ex.clone()));
            }
            let bytes_in = entry.bytes_in.clone();
            let mut original_request = None;
            let streamed_request = if compiled.reads_request_body {
                let limit = self.shared.options.max_request_body;
                match Limited::new(body, limit).collect().await {
                    Ok(b) => {
                        let b = b.to_bytes();
                        if let Some(c) = &bytes_in {
                            c.store(b.len() as u64, Ordering::Relaxed);
                        }
                        if !b.is_empty() {
                            st.request.body = Some(String::from_utf8_lossy(&b).into_owned());
                            original_request = Some(b);
                        }
                        None
                    }
                    Err(e) => {
                        let too_large = e
                            .downcast_ref::<http_body_util::LengthLimitError>()
                            .is_some();
                        entry.error_reason = if too_large {
                            "RequestEntityTooLarge".into()
                        } else {
                            "ClientConnectionFailure".into()
                        };
                        return if too_large {
                            self.error(
                                413,
                                "Request entity too large",
                                request_id,
                                entry,
                                start,
                                time,
                                &[],
                            )
                        } else {
                            self.error(400, "Bad request", request_id, entry, start, time, &[])
                        };
                    }
                }
            } else {
                Some(Streamed::counted(body, bytes_in))
            };

            // The pipeline.
            let call = crate::upstream::Call::new(
                &self.shared.upstream,
                streamed_request,
                !compiled.reads_response_body,
            )
            .with_incoming_host(header("host"))
            .with_original_request(original_request);
            let opts = EvalOptions {
                now: st.now,
                seed: request_id as u64,
                ..EvalOptions::default()
            };
            turnpike_pipeline::run(&compiled.pipeline, &mut st, &call, &opts).await;

            let body: Option<OutBody> = match (st.backend_body, call.take_response_body()) {
                (true, Some(streamed)) => Some(Either::Right(streamed)),
                // A backend body a policy read but did not change goes back byte for byte.
                _ => match (call.take_original_response(), &st.response.body) {
                    (Some(raw), Some(text)) if crate::upstream::unchanged(text, &raw) => {
                        Some(Either::Left(Full::new(raw)))
                    }
                    _ => None,
                },
            };
            self.respond(&mut st, body, entry, start, time)
        })
        .await
    }

    /// The answer a pipeline left in `st`; `body`, when given, is sent in place of the text
    /// body (the backend's own body, streamed or as it came).
    fn respond(
        &self,
        st: &mut RequestState,
        body: Option<OutBody>,
        mut entry: Entry,
        start: Instant,
        time: SystemTime,
    ) -> Response<Logged<OutBody>> {
        let status = u16::try_from(st.status).unwrap_or(500);
        entry.status = status;
        if let Some(e) = &st.last_error {
            entry.error_reason = e.reason.clone();
        }
        let body: OutBody = match body {
            Some(b) => b,
            None => Either::Left(Full::new(Bytes::from(
                st.response.body.take().unwrap_or_default(),
            ))),
        };
        let log = self.shared.log.clone().map(|l| (l, entry, start, time));
        let mut resp = Response::new(Logged::new(body, log));
        *resp.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if !st.reason.is_empty()
            && resp.status().canonical_reason() != Some(st.reason.as_str())
            && let Ok(r) = hyper::ext::ReasonPhrase::try_from(st.reason.clone())
        {
            resp.extensions_mut().insert(r);
        }
        // The backend's own body, untouched: its length still holds (a HEAD answer has none
        // to recompute it from).
        let keep_length = st.backend_body;
        let listed = crate::upstream::connection_listed(&st.response.headers);
        let h = resp.headers_mut();
        for (name, values) in st.response.headers.iter() {
            let length = name.eq_ignore_ascii_case("content-length");
            if (skip_header(name) && !(length && keep_length))
                || listed.iter().any(|l| name.eq_ignore_ascii_case(l))
            {
                continue;
            }
            let Ok(n) = hyper::header::HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            for v in values {
                if let Ok(v) = hyper::header::HeaderValue::from_str(v) {
                    h.append(n.clone(), v);
                }
            }
        }
        resp
    }

    /// A built-in step failed (no operation, a refused key): the error goes through the
    /// `on-error` of the scopes known so far, as APIM does; without one, the gateway's own
    /// answer.
    #[allow(clippy::too_many_arguments)]
    async fn builtin_error(
        &self,
        on_error: &Compiled,
        mut st: RequestState,
        error: LastError,
        status: u16,
        extra: &[(&str, String)],
        entry: Entry,
        start: Instant,
        time: SystemTime,
    ) -> Response<Logged<OutBody>> {
        let message = error.message.clone();
        if on_error.pipeline.on_error.is_empty() {
            return self.error(
                status,
                &public_message(&error.reason, &message),
                st.request_id,
                entry,
                start,
                time,
                extra,
            );
        }
        let call = crate::upstream::Call::new(&self.shared.upstream, None, false);
        let opts = EvalOptions {
            now: st.now,
            seed: st.request_id as u64,
            ..EvalOptions::default()
        };
        let public = public_message(&error.reason, &message).to_string();
        turnpike_pipeline::run_on_error(
            &on_error.pipeline,
            &mut st,
            &call,
            &opts,
            error,
            i32::from(status),
            &public,
        )
        .await;
        if st.status == i32::from(status) {
            for (k, v) in extra {
                if st.response.get(k).is_none() {
                    st.response.set(k, vec![v.clone()]);
                }
            }
        }
        self.respond(&mut st, None, entry, start, time)
    }
}

impl Gateway {
    /// A call whose pipeline only forwards: the request goes to the backend as it came, the
    /// answer comes back streamed, with no request state built. Failures answer as the
    /// pipeline's `forward-request` does.
    #[allow(clippy::too_many_arguments)]
    async fn pass_through(
        &self,
        mut parts: http::request::Parts,
        body: Incoming,
        target: String,
        pool: &Arc<crate::pool::BackendPool>,
        mut entry: Entry,
        request_id: u128,
        start: Instant,
        time: SystemTime,
    ) -> Response<Logged<OutBody>> {
        let uri = match hyper::Uri::from_maybe_shared(Bytes::from(target)) {
            Ok(u) => u,
            Err(_) => {
                entry.error_reason = "BackendConnectionFailure".into();
                return self.error(502, "Bad Gateway", request_id, entry, start, time, &[]);
            }
        };
        crate::upstream::remove_hop_by_hop(&mut parts.headers);
        parts.headers.remove(hyper::header::HOST);
        join_cookies(&mut parts.headers);
        parts.uri = uri;
        parts.version = hyper::Version::HTTP_11;
        // The method as the pipeline path sends it: routing ignored its case.
        if parts
            .method
            .as_str()
            .bytes()
            .any(|b| b.is_ascii_lowercase())
            && let Ok(m) =
                hyper::Method::from_bytes(parts.method.as_str().to_ascii_uppercase().as_bytes())
        {
            parts.method = m;
        }
        let counted = Streamed::counted(body, entry.bytes_in.clone());
        let request = Request::from_parts(parts, Either::Right(counted));
        match Upstream::send_raw(pool, request, Duration::from_secs(300)).await {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                entry.status = parts.status.as_u16();
                let log = self.shared.log.clone().map(|l| (l, entry, start, time));
                Response::from_parts(parts, Logged::new(Either::Right(body), log))
            }
            Err(turnpike_pipeline::BackendError::Timeout) => {
                entry.error_reason = "Timeout".into();
                self.error(504, "Gateway Timeout", request_id, entry, start, time, &[])
            }
            Err(turnpike_pipeline::BackendError::Connection(_)) => {
                entry.error_reason = "BackendConnectionFailure".into();
                self.error(502, "Bad Gateway", request_id, entry, start, time, &[])
            }
        }
    }
}

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denied {
    Missing,
    Invalid,
}

impl Denied {
    fn message(self) -> &'static str {
        match self {
            Denied::Missing => {
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
            }
            Denied::Invalid => {
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
            }
        }
    }

    /// `context.LastError.Message` (APIM's error reference words the missing-key one slightly
    /// differently from the body it sends).
    fn last_error_message(self) -> &'static str {
        match self {
            Denied::Missing => {
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API."
            }
            Denied::Invalid => self.message(),
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Denied::Missing => "SubscriptionKeyNotFound",
            Denied::Invalid => "SubscriptionKeyInvalid",
        }
    }
}

type Authorized = (Option<String>, Option<(Arc<SubscriptionEntry>, String)>);

/// The product context and subscription of a call to `api` with `key`, as APIM decides it.
fn authorize(api: &ApiEntry, keys: &KeyIndex, key: Option<&str>) -> Result<Authorized, Denied> {
    match key {
        Some(k) => {
            let s = keys.by_key.get(k).ok_or(Denied::Invalid)?;
            if s.state != "active" {
                return Err(Denied::Invalid);
            }
            let product = match &s.scope {
                Scope::AllApis => None,
                Scope::Api(id) if id == &api.id => None,
                Scope::Product(p) if api.products.iter().any(|x| x == p) => Some(p.clone()),
                _ => return Err(Denied::Invalid),
            };
            Ok((product, Some((Arc::clone(s), k.to_string()))))
        }
        None => {
            if let Some(p) = &api.open_product {
                Ok((Some(p.clone()), None))
            } else if !api.subscription_required {
                Ok((None, None))
            } else {
                Err(Denied::Missing)
            }
        }
    }
}

/// The body message of a built-in step's error (`LastError.Reason`), as APIM sends it.
fn public_message(reason: &str, message: &str) -> String {
    match reason {
        "OperationNotFound" => "Resource not found".into(),
        "SubscriptionKeyNotFound" => Denied::Missing.message().into(),
        "SubscriptionKeyInvalid" => Denied::Invalid.message().into(),
        _ => message.into(),
    }
}

/// HTTP/2 may split `Cookie` into several fields; an HTTP/1.1 backend needs one, joined with
/// `; ` (RFC 9113, 8.2.3).
fn join_cookies(h: &mut hyper::HeaderMap) {
    let mut values = h.get_all(hyper::header::COOKIE).iter();
    if values.next().is_none() || values.next().is_none() {
        return;
    }
    let joined: Vec<&str> = h
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&joined.join("; ")) {
        h.insert(hyper::header::COOKIE, v);
    }
}

/// A request state with what every call has: method, URL, headers, caller, id and clock.
fn base_state(
    method: &str,
    url: &str,
    headers: &hyper::HeaderMap,
    ip: std::net::IpAddr,
    request_id: u128,
) -> RequestState {
    let upper;
    let method = if method.bytes().any(|b| b.is_ascii_lowercase()) {
        upper = method.to_ascii_uppercase();
        upper.as_str()
    } else {
        method
    };
    let mut st = RequestState::new(method, url);
    st.request_id = request_id;
    st.now = DateTime::utc_now();
    st.ip = ip.to_string();
    st.record_forwarded = false;
    st.host_fallback = false;
    let mut list: Vec<(String, Vec<String>)> = Vec::with_capacity(headers.keys_len());
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match list.iter_mut().find(|(n, _)| n == name.as_str()) {
            // Several `Cookie` fields (HTTP/2) are one header of `; `-joined pairs.
            Some(h) if name == hyper::header::COOKIE => {
                if let Some(first) = h.1.first_mut() {
                    first.push_str("; ");
                    first.push_str(&v);
                }
            }
            Some(h) => h.1.push(v),
            None => list.push((name.as_str().to_string(), vec![v])),
        }
    }
    st.request.headers = Arc::new(list);
    st
}

/// Query parameters, decoded (`+` is a space).
fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The accept loop shared by the gateway and the admin listener.
async fn serve_with<F, Fut>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    handler: F,
) where
    F: Fn(SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Logged<OutBody>>, Infallible>> + Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // API messages are small: one flat write beats a vectored one (measured by the load
    // script).
    builder.http1().writev(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors and the like: wait a little rather than spin.
                        note!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let h = handler.clone();
                let service = service_fn(move |req| h(peer, req));
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
}
