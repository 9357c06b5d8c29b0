//! End to end: the gateway on a loopback port in front of an in-process backend, both on
//! port 0, driven over real HTTP. The fixture is `tests/fixtures/shop` (see its README); each
//! test points its APIs at its own backend with an overrides file.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpListener;
use turnpike_gateway::net::Cidr;
use turnpike_gateway::{Gateway, Options};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shop");

/// Keys the overrides file fixes.
const GOLD: &str = "gold-primary-key-0001";
const GOLD_2: &str = "gold-secondary-key-0001";
const ECHO_SUB: &str = "echo-api-key-000001";
const ALL_SUB: &str = "all-apis-key-000001";
const SUSPENDED: &str = "suspended-key-000001";
const CANCELLED: &str = "cancelled-key-000001";
const MASTER: &str = "master-key-0000001";

const MISSING_KEY: &str = "{\n  \"statusCode\": 401,\n  \"message\": \"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.\"\n}";
const INVALID_KEY: &str = "{\n  \"statusCode\": 401,\n  \"message\": \"Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.\"\n}";
const NOT_FOUND: &str = "{\n  \"statusCode\": 404,\n  \"message\": \"Resource not found\"\n}";

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "turnpike-e2e-{tag}-{}-{}",
        std::process::id(),
        turnpike_gateway::keys::new_key().unwrap()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The backend: answers every call with a JSON echo of what it received. `?sleep=ms` waits
/// first; `?status=n` answers with that status.
async fn start_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Calls in flight right now; each answer says how many there were when it arrived.
    let inflight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let inflight = Arc::clone(&inflight);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let inflight = Arc::clone(&inflight);
                    async move {
                        let now = inflight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let query = parts.uri.query().unwrap_or_default().to_string();
                        let param = |k: &str| {
                            query
                                .split('&')
                                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                                .and_then(|v| v.parse::<u64>().ok())
                        };
                        if let Some(ms) = param("sleep") {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        inflight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        let mut headers = serde_json::Map::new();
                        for (k, v) in &parts.headers {
                            headers.insert(
                                k.as_str().to_string(),
                                Value::String(v.to_str().unwrap_or_default().to_string()),
                            );
                        }
                        let echo = serde_json::json!({
                            "method": parts.method.as_str(),
                            "path": parts.uri.path(),
                            "query": query,
                            "headers": headers,
                            "bodyLength": body.len(),
                            "bodyHead": String::from_utf8_lossy(&body[..body.len().min(64)]),
                            "inflight": now,
                        });
                        // `?raw=1`: the request body comes back as it is.
                        let out = if param("raw") == Some(1) {
                            body.clone()
                        } else {
                            Bytes::from(echo.to_string())
                        };
                        let mut r = Response::new(Full::new(out));
                        *r.status_mut() =
                            hyper::StatusCode::from_u16(param("status").unwrap_or(200) as u16)
                                .unwrap();
                        r.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        // `?connhdr=1`: a header that `Connection` scopes to this hop.
                        if param("connhdr") == Some(1) {
                            let h = r.headers_mut();
                            h.insert(
                                "connection",
                                hyper::header::HeaderValue::from_static("x-internal"),
                            );
                            h.insert(
                                "x-internal",
                                hyper::header::HeaderValue::from_static("secret"),
                            );
                        }
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A port where nothing listens.
async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

fn overrides(backend: SocketAddr, dead_port: u16) -> String {
    let mut apis = String::new();
    for api in [
        "echo",
        "echox",
        "weather-v1",
        "weather-v2",
        "stock-v1",
        "stock-v2",
        "stock-orig",
        "maps-v1",
        "maps-v2",
        "orders",
        "orders;rev=2",
        "open-api",
        "secure",
    ] {
        apis.push_str(&format!(
            "  - name: \"{api}\"\n    properties:\n      serviceUrl: http://{backend}/svc/{api}\n"
        ));
    }
    let _ = dead_port;
    let mut subs = String::new();
    for (name, p, s) in [
        ("gold-sub", GOLD, GOLD_2),
        ("echo-sub", ECHO_SUB, "echo-api-key-000002"),
        ("all-sub", ALL_SUB, "all-apis-key-000002"),
        ("suspended-sub", SUSPENDED, "suspended-key-000002"),
        ("cancelled-sub", CANCELLED, "cancelled-key-000002"),
        ("master", MASTER, "master-key-0000002"),
    ] {
        subs.push_str(&format!(
            "  - name: {name}\n    properties:\n      primaryKey: {p}\n      secondaryKey: {s}\n"
        ));
    }
    format!("apis:\n{apis}subscriptions:\n{subs}")
}

/// A running gateway and what a test needs to call it.
struct Harness {
    addr: SocketAddr,
    gateway: Gateway,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    client: Client<HttpConnector, Full<Bytes>>,
    log: Arc<Mutex<Vec<u8>>>,
    dir: PathBuf,
}

#[derive(Clone)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Reply {
    status: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// A header the backend received.
    fn sent(&self, name: &str) -> Option<String> {
        self.json()["headers"][name].as_str().map(str::to_string)
    }
}

impl Harness {
    async fn start() -> Harness {
        Harness::start_with(Path::new(FIXTURE), |_| {}).await
    }

    async fn start_with(folder: &Path, tweak: impl FnOnce(&mut Options)) -> Harness {
        let backend = start_backend().await;
        let dir = temp_dir("gw");
        let o = dir.join("configuration.test.yaml");
        std::fs::write(&o, overrides(backend, closed_port().await)).unwrap();
        let mut options = Options::new(folder.to_path_buf(), dir.join("data"));
        options.overrides = Some(o);
        tweak(&mut options);
        let log = Arc::new(Mutex::new(Vec::new()));
        let gateway = Gateway::load(options, Some(Box::new(SharedBuf(Arc::clone(&log)))))
            .unwrap_or_else(|e| panic!("{e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let g = gateway.clone();
        let done = tokio::spawn(async move {
            g.serve(
                listener,
                async {
                    let _ = rx.await;
                },
                Duration::from_secs(10),
            )
            .await;
        });
        Harness {
            addr,
            gateway,
            stop: Some(tx),
            done: Some(done),
            client: Client::builder(TokioExecutor::new()).build_http(),
            log,
            dir,
        }
    }

    async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let (status, headers, body) = self
            .call_bytes(method, path, headers, Bytes::from(body.to_string()))
            .await;
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn call_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> (u16, hyper::HeaderMap, Bytes) {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body)).unwrap();
        let resp = self.client.request(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts.status.as_u16(), parts.headers, body)
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.call("GET", path, headers, "").await
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(d) = self.done.take() {
            d.await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apis_match_on_whole_segments() {
    let h = Harness::start().await;
    let r = h.get("/echox/items", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-operation"), Some("echox/list-items"));
    assert_eq!(r.json()["path"], "/svc/echox/items");
    // `/echo` is its own API (it needs a key), not a prefix of `/echox`.
    let r = h.get("/echo/items", &[]).await;
    assert_eq!(r.status, 401);
    for path in [
        "/echoxy/items",
        "/ech/items",
        "/items",
        "/",
        "/echo",
        "/echox/items/1/2",
    ] {
        let r = h.get(path, &[("Ocp-Apim-Subscription-Key", ALL_SUB)]).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.body, NOT_FOUND, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        // The global scope's on-error ran with LastError filled.
        assert_eq!(
            r.header("x-error-reason"),
            Some("OperationNotFound"),
            "{path}"
        );
        assert_eq!(r.header("x-error-source"), Some("configuration"), "{path}");
    }
    // The method is part of the operation.
    let r = h.call("DELETE", "/echox/items", &[], "").await;
    assert_eq!(r.status, 404);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_match_by_url_template() {
    let h = Harness::start().await;
    let key = [("Ocp-Apim-Subscription-Key", ALL_SUB)];
    let r = h.get("/echo/items/42", &key).await;
    assert_eq!(r.header("x-operation"), Some("echo/get-item"));
    assert_eq!(r.header("x-matched"), Some("id=42"));
    assert_eq!(r.json()["path"], "/svc/echo/items/42");
    // A literal segment beats a parameter.
    let r = h.get("/echo/items/latest", &key).await;
    assert_eq!(r.header("x-operation"), Some("echo/latest-item"));
    let r = h.get("/echo/files/report.tar.gz", &key).await;
    assert_eq!(r.header("x-operation"), Some("echo/get-file"));
    assert_eq!(r.header("x-matched"), Some("name=report,ext=tar.gz"));
    // Template query parameters are required and matched.
    let r = h.get("/echo/search?q=shoes&page=2", &key).await;
    assert_eq!(r.header("x-operation"), Some("echo/search"));
    assert_eq!(r.header("x-matched"), Some("q=shoes"));
    assert_eq!(r.json()["query"], "q=shoes&page=2");
    assert_eq!(h.get("/echo/search", &key).await.status, 404);
    // Percent-escapes in a parameter are decoded.
    let r = h.get("/echo/items/a%20b", &key).await;
    assert_eq!(r.header("x-matched"), Some("id=a b"));
    // rewrite-uri: the template is relative to the service URL; unmatched parameters kept.
    let r = h.get("/echo/rewrite/9?x=1", &key).await;
    assert_eq!(r.json()["path"], "/svc/echo/v2/things/9");
    assert_eq!(r.json()["query"], "x=1");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_sets_select_by_segment_query_and_header() {
    let h = Harness::start().await;
    for v in ["v1", "v2"] {
        let r = h.get(&format!("/weather/{v}/forecast"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.sent("x-version").as_deref(), Some(v));
        // The version segment is not part of the backend's path.
        assert_eq!(r.json()["path"], format!("/svc/weather-{v}/forecast"));
        let r = h.get(&format!("/stock/quote?api-version={v}"), &[]).await;
        assert_eq!(r.sent("x-version").as_deref(), Some(v));
        let r = h.get("/maps/tile", &[("Api-Version", v)]).await;
        assert_eq!(r.sent("x-version").as_deref(), Some(v));
    }
    // The original version of a set is reached without a version.
    let r = h.get("/stock/quote", &[]).await;
    assert_eq!(r.sent("x-version").as_deref(), Some("original"));
    // Unknown or missing versions do not match.
    assert_eq!(h.get("/weather/v3/forecast", &[]).await.status, 404);
    assert_eq!(h.get("/weather/forecast", &[]).await.status, 404);
    assert_eq!(h.get("/stock/quote?api-version=v9", &[]).await.status, 404);
    assert_eq!(h.get("/maps/tile", &[]).await.status, 404);
    assert_eq!(
        h.get("/maps/tile", &[("Api-Version", "v3")]).await.status,
        404
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisions_are_reached_with_rev() {
    let h = Harness::start().await;
    let r = h.get("/orders/orders/7", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.sent("x-revision").as_deref(), Some("1"));
    assert_eq!(r.json()["path"], "/svc/orders/orders/7");
    let r = h.get("/orders;rev=2/orders/7", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.sent("x-revision").as_deref(), Some("2"));
    // Its own service URL, and `;rev=2` is not sent to the backend.
    assert_eq!(r.json()["path"], "/svc/orders;rev=2/orders/7");
    // Its own specification: `cancel-order` exists only in revision 2.
    assert_eq!(
        h.call("DELETE", "/orders/orders/7", &[], "").await.status,
        404
    );
    assert_eq!(
        h.call("DELETE", "/orders;rev=2/orders/7", &[], "")
            .await
            .status,
        200
    );
    assert_eq!(h.get("/orders;rev=3/orders/7", &[]).await.status, 404);
    assert_eq!(h.get("/orders;rev=x/orders/7", &[]).await.status, 404);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_keys() {
    let h = Harness::start().await;
    let ok = |r: &Reply| assert_eq!(r.status, 200, "{}", r.body);
    // Primary and secondary key, header and query, header name in any case.
    ok(&h
        .get("/echo/items", &[("Ocp-Apim-Subscription-Key", GOLD)])
        .await);
    ok(&h
        .get("/echo/items", &[("Ocp-Apim-Subscription-Key", GOLD_2)])
        .await);
    ok(&h
        .get("/echo/items", &[("ocp-apim-subscription-key", GOLD)])
        .await);
    ok(&h
        .get("/echo/items", &[("OCP-APIM-SUBSCRIPTION-KEY", GOLD)])
        .await);
    ok(&h
        .get(&format!("/echo/items?subscription-key={GOLD}"), &[])
        .await);
    // Missing: 401 with the challenge header.
    let r = h.get("/echo/items", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (401, MISSING_KEY));
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!(
            "AzureApiManagementKey realm=\"http://{}/echo\",name=\"Ocp-Apim-Subscription-Key\",type=\"header\"",
            h.addr
        )
    );
    // The key check is a built-in step: its error goes through `on-error` (the global one
    // stamps the reason and source), which here does not answer.
    assert_eq!(r.header("x-error-reason"), Some("SubscriptionKeyNotFound"));
    assert_eq!(r.header("x-error-source"), Some("authorization"));
    // Invalid, suspended, cancelled: 401 invalid.
    for key in ["no-such-key-000000", SUSPENDED, CANCELLED] {
        let r = h
            .get("/echo/items", &[("Ocp-Apim-Subscription-Key", key)])
            .await;
        assert_eq!((r.status, r.body.as_str()), (401, INVALID_KEY), "{key}");
        assert_eq!(r.header("www-authenticate"), None);
        assert_eq!(r.header("x-error-reason"), Some("SubscriptionKeyInvalid"));
    }
    // Scopes: an API-scoped key works for its API only; all-APIs works everywhere.
    ok(&h
        .get("/echo/items", &[("Ocp-Apim-Subscription-Key", ECHO_SUB)])
        .await);
    let r = h
        .get("/open/ping", &[("Ocp-Apim-Subscription-Key", ECHO_SUB)])
        .await;
    assert_eq!((r.status, r.body.as_str()), (401, INVALID_KEY));
    ok(&h
        .get("/open/ping", &[("Ocp-Apim-Subscription-Key", ALL_SUB)])
        .await);
    ok(&h
        .get(
            "/weather/v1/forecast",
            &[("Ocp-Apim-Subscription-Key", ALL_SUB)],
        )
        .await);
    // A key is checked even where none is required: gold does not hold `echox`.
    let r = h
        .get("/echox/items", &[("Ocp-Apim-Subscription-Key", GOLD)])
        .await;
    assert_eq!((r.status, r.body.as_str()), (401, INVALID_KEY));
    // A key is never taken from a query parameter of another name.
    let r = h.get(&format!("/echo/items?key={GOLD}"), &[]).await;
    assert_eq!(r.status, 401);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_policy_runs_only_in_product_context() {
    let h = Harness::start().await;
    let product = |r: &Reply| r.sent("x-product");
    let call = |key: &'static str| {
        let h = &h;
        async move {
            h.get("/echo/items", &[("Ocp-Apim-Subscription-Key", key)])
                .await
        }
    };
    assert_eq!(product(&call(GOLD).await).as_deref(), Some("gold"));
    assert_eq!(product(&call(ECHO_SUB).await), None);
    assert_eq!(product(&call(ALL_SUB).await), None);
    // The open product's context without a key; a product key picks its product.
    let r = h.get("/open/ping", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(product(&r).as_deref(), Some("free"));
    let r = h
        .get("/open/ping", &[("Ocp-Apim-Subscription-Key", GOLD)])
        .await;
    assert_eq!(product(&r).as_deref(), Some("gold"));
    // The context model as policies see it.
    let r = h
        .get("/echo/context", &[("Ocp-Apim-Subscription-Key", GOLD)])
        .await;
    assert_eq!(
        r.json(),
        serde_json::json!({"api": "echo", "revision": "1", "operation": "context", "product": "gold", "subscription": "gold-sub", "ip": "127.0.0.1"})
    );
    let r = h
        .get("/echo/context", &[("Ocp-Apim-Subscription-Key", ALL_SUB)])
        .await;
    assert_eq!(r.json()["product"], "");
    assert_eq!(r.json()["subscription"], "all-sub");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_answer_with_apim_bodies() {
    let h = Harness::start().await;
    let key = [("Ocp-Apim-Subscription-Key", ALL_SUB)];
    // A policy Turnpike cannot run fails closed: 500, never skipped.
    let r = h.get("/echo/unsupported", &key).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.header("x-error-reason"), Some("PolicyNotSupported"));
    assert_eq!(r.header("x-error-source"), Some("json-to-xml"));
    let body = r.json();
    assert_eq!(body["statusCode"], 500);
    assert_eq!(body["message"], "Internal server error");
    assert_eq!(body["activityId"].as_str().unwrap().len(), 36);
    // A backend that does not answer in time: 504 through on-error.
    let r = h.get("/echo/slow?sleep=3000", &key).await;
    assert_eq!(r.status, 504, "{}", r.body);
    assert_eq!(r.header("x-error-reason"), Some("Timeout"));
    assert_eq!(r.json()["message"], "Gateway Timeout");
    // A backend status is passed on as it is.
    let r = h.get("/echo/items?status=503", &key).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["path"], "/svc/echo/items");
    // A return-response with its own reason phrase.
    let r = h.get("/echo/teapot", &key).await;
    assert_eq!(r.status, 418);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_backend_goes_through_on_error() {
    let dead = closed_port().await;
    let dir = temp_dir("dead");
    let o = dir.join("dead.yaml");
    std::fs::write(
        &o,
        format!(
            "apis:\n  - name: echox\n    properties:\n      serviceUrl: http://127.0.0.1:{dead}/gone\n"
        ),
    )
    .unwrap();
    let h = Harness::start_with(Path::new(FIXTURE), |opts| {
        // Applied after the harness's own overrides file would be: use this one alone.
        opts.overrides = Some(o.clone());
    })
    .await;
    let r = h.get("/echox/items", &[]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.header("x-error-reason"), Some("BackendConnectionFailure"));
    assert_eq!(r.header("x-error-source"), Some("forward-request"));
    assert_eq!(r.json()["statusCode"], 502);
    h.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_unless_a_policy_reads_them() {
    let h = Harness::start().await;
    let key = [("Ocp-Apim-Subscription-Key", ALL_SUB)];
    // No policy reads the body: 1 MiB passes through unchanged.
    let big = "x".repeat(1 << 20);
    let r = h.call("POST", "/echo/items", &key, &big).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["bodyLength"], 1 << 20);
    // A policy reads and replaces the request body, another reads the response body.
    let r = h.call("POST", "/echo/body", &key, "hello").await;
    assert_eq!(r.json()["bodyHead"], "HELLO");
    assert_eq!(r.json()["bodyLength"], 5);
    assert_eq!(
        r.header("x-response-length").unwrap(),
        r.body.len().to_string()
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_cleartext_on_the_same_port() {
    let h = Harness::start().await;
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = Request::get(format!("http://{}/echox/items", h.addr))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_only_from_trusted_proxies() {
    let key = [
        ("Ocp-Apim-Subscription-Key", ALL_SUB),
        ("X-Forwarded-For", "203.0.113.9"),
    ];
    let h = Harness::start().await;
    assert_eq!(h.get("/echo/context", &key).await.json()["ip"], "127.0.0.1");
    h.stop().await;
    let h = Harness::start_with(Path::new(FIXTURE), |o| {
        o.trusted_proxies = vec!["127.0.0.0/8".parse::<Cidr>().unwrap()];
    })
    .await;
    assert_eq!(
        h.get("/echo/context", &key).await.json()["ip"],
        "203.0.113.9"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_has_one_line_per_call() {
    let h = Harness::start().await;
    h.get("/echox/items", &[]).await;
    h.get(&format!("/echo/items?subscription-key={GOLD}"), &[])
        .await;
    h.get("/nowhere", &[]).await;
    h.call(
        "POST",
        "/echo/items",
        &[("Ocp-Apim-Subscription-Key", GOLD)],
        "12345",
    )
    .await;
    // The writer thread runs on its own; give it a moment.
    let mut lines = Vec::new();
    for _ in 0..100 {
        let text = String::from_utf8(h.log.lock().unwrap().clone()).unwrap();
        lines = text.lines().map(str::to_string).collect::<Vec<_>>();
        if lines.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lines.len(), 4, "{lines:?}");
    let v: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v[0]["api"], "echox");
    assert_eq!(v[0]["operation"], "list-items");
    assert_eq!(v[0]["status"], 200);
    assert!(v[0]["bytesOut"].as_u64().unwrap() > 0);
    assert!(v[0]["latencyMs"].as_f64().unwrap() > 0.0);
    assert!(v[0]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v[1]["product"], "gold");
    assert_eq!(v[1]["subscription"], "gold-sub");
    // The query (which may hold a key) is never logged.
    assert_eq!(v[1]["path"], "/echo/items");
    assert!(!lines[1].contains(GOLD));
    assert_eq!(v[2]["status"], 404);
    assert_eq!(v[2]["errorReason"], "OperationNotFound");
    assert_eq!(v[3]["bytesIn"], 5);
    h.stop().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_drops_nothing() {
    let folder = temp_dir("reload");
    copy_dir(Path::new(FIXTURE), &folder);
    let h = Arc::new(Harness::start_with(&folder, |_| {}).await);
    let workers = 8;
    let per_worker = 300;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..per_worker {
                let r = h.get("/echox/items", &[]).await;
                assert_eq!(r.status, 200, "{}", r.body);
                seen.insert(r.header("x-global-out").unwrap().to_string());
            }
            seen
        }));
    }
    // Reload five times while the calls run, each time with a changed global policy.
    let policy = folder.join("policy.xml");
    let original = std::fs::read_to_string(&policy).unwrap();
    for i in 1..=5 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        std::fs::write(
            &policy,
            original.replace("<value>out</value>", &format!("<value>out-{i}</value>")),
        )
        .unwrap();
        let g = h.gateway.clone();
        let r = tokio::task::spawn_blocking(move || g.reload())
            .await
            .unwrap();
        assert!(
            r.is_ok(),
            "{}",
            r.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for t in tasks {
        seen.extend(t.await.unwrap());
    }
    assert!(workers * per_worker >= 2000);
    // The last generation serves now.
    assert_eq!(
        h.get("/echox/items", &[]).await.header("x-global-out"),
        Some("out-5")
    );
    eprintln!("values seen during the reloads: {seen:?}");
    // A folder that no longer loads leaves the old one serving.
    std::fs::write(&policy, "<policies><inbound><set-header</policies>").unwrap();
    let g = h.gateway.clone();
    let err = tokio::task::spawn_blocking(move || g.reload())
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.errors > 0);
    assert!(err.to_string().contains("policy.xml"), "{err}");
    let r = h.get("/echox/items", &[]).await;
    assert_eq!((r.status, r.header("x-global-out")), (200, Some("out-5")));
    if let Ok(h) = Arc::try_unwrap(h) {
        h.stop().await;
    }
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_calls_in_flight_finish() {
    let mut h = Harness::start().await;
    let addr = h.addr;
    let client = h.client.clone();
    let slow = tokio::spawn(async move {
        let req = Request::get(format!("http://{addr}/echox/items?sleep=400"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, body.len())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = h.stop.take().unwrap().send(());
    let (status, len) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(len > 0);
    h.done.take().unwrap().await.unwrap();
    // The listener is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let _ = std::fs::remove_dir_all(&h.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_changed_in_the_database_reach_the_gateway() {
    let h = Harness::start().await;
    let data = h.dir.join("data");
    {
        let store = turnpike_gateway::keys::KeyStore::open(&data).unwrap();
        store
            .set("echo-sub", Some("rotated-key-000001"), None)
            .unwrap();
    }
    h.gateway.refresh_keys().unwrap();
    let r = h
        .get("/echo/items", &[("Ocp-Apim-Subscription-Key", ECHO_SUB)])
        .await;
    assert_eq!(r.status, 401);
    let r = h
        .get(
            "/echo/items",
            &[("Ocp-Apim-Subscription-Key", "rotated-key-000001")],
        )
        .await;
    assert_eq!(r.status, 200);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_backend_are_limited() {
    async fn max_inflight(h: &Harness) -> u64 {
        let calls = (0..4).map(|_| h.get("/echox/items?sleep=150", &[]));
        let replies = futures_util::future::join_all(calls).await;
        replies
            .iter()
            .map(|r| {
                assert_eq!(r.status, 200, "{}", r.body);
                r.json()["inflight"].as_u64().unwrap()
            })
            .max()
            .unwrap()
    }
    let h = Harness::start().await;
    assert!(
        max_inflight(&h).await > 1,
        "calls should overlap without a limit"
    );
    h.stop().await;
    let h = Harness::start_with(Path::new(FIXTURE), |o| {
        o.upstream.connections_per_backend = 1
    })
    .await;
    assert_eq!(max_inflight(&h).await, 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apis_turnpike_cannot_serve_are_left_out_with_a_warning() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/artifacts/wsdl-soap-api");
    let dir = temp_dir("soap");
    let gateway = Gateway::load(Options::new(folder, dir.join("data")), None).unwrap();
    let g = gateway.generation();
    // The SOAP API is left out with a warning; the OpenAPI one next to it is served.
    let served: Vec<&str> = g.apis.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(served, ["orders"]);
    let unserved: Vec<&String> = g
        .warnings
        .iter()
        .filter(|w| w.contains("is not served"))
        .collect();
    assert_eq!(unserved.len(), 1, "{:?}", g.warnings);
    assert!(
        unserved[0].contains("API `calculator-soap` is not served"),
        "{:?}",
        g.warnings
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_error_can_answer_for_built_in_steps() {
    let folder = temp_dir("onerror");
    copy_dir(Path::new(FIXTURE), &folder);
    let policy = folder.join("policy.xml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let custom = r#"<on-error>
        <choose>
            <when condition="@(context.LastError.Reason == &quot;OperationNotFound&quot;)">
                <return-response>
                    <set-status code="404" reason="Not Here" />
                    <set-body>@("no route for " + context.Request.Url.Path)</set-body>
                </return-response>
            </when>
            <when condition="@(context.LastError.Source == &quot;authorization&quot;)">
                <return-response>
                    <set-status code="403" reason="Forbidden" />
                    <set-body>@(context.LastError.Reason + " on " + context.Api.Id + "/" + context.Operation.Id)</set-body>
                </return-response>
            </when>
        </choose>"#;
    std::fs::write(&policy, text.replacen("<on-error>", custom, 1)).unwrap();
    let h = Harness::start_with(&folder, |_| {}).await;
    let r = h.get("/nowhere/at/all", &[]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, "no route for /nowhere/at/all")
    );
    let r = h.get("/echo/items", &[]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (403, "SubscriptionKeyNotFound on echo/list-items")
    );
    assert_eq!(r.header("www-authenticate"), None);
    h.stop().await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_host_never_picks_the_backend() {
    let h = Harness::start().await;
    let backend_host = h.get("/echox/items", &[]).await.sent("host").unwrap();
    // No service URL and no set-backend-service: the call fails; the Host header is not used.
    let r = h.get("/noservice/x", &[("Host", &backend_host)]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.header("x-error-reason"), Some("BackendConnectionFailure"));
    // The backend gets its own host, unless a policy sets one.
    let key = [
        ("Ocp-Apim-Subscription-Key", ALL_SUB),
        ("Host", "caller.example"),
    ];
    assert_eq!(
        h.get("/echo/items", &key).await.sent("host").unwrap(),
        backend_host
    );
    assert_eq!(
        h.get("/echo/host", &key).await.sent("host").as_deref(),
        Some("custom.example")
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_only_apis_are_reached_through_a_trusted_tls_proxy() {
    let xfp = [("X-Forwarded-Proto", "https")];
    let h = Harness::start().await;
    // Cleartext, or a header from an untrusted peer: no match, as APIM answers http calls.
    assert_eq!(h.get("/secure/x", &[]).await.status, 404);
    assert_eq!(h.get("/secure/x", &xfp).await.status, 404);
    assert!(
        h.gateway
            .generation()
            .warnings
            .iter()
            .any(|w| w.contains("API `secure` allows only https"))
    );
    h.stop().await;
    let h = Harness::start_with(Path::new(FIXTURE), |o| {
        o.trusted_proxies = vec!["127.0.0.1".parse::<Cidr>().unwrap()];
    })
    .await;
    let r = h.get("/secure/x", &xfp).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["path"], "/svc/secure/x");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_scope_covers_every_api() {
    let h = Harness::start().await;
    for path in ["/echo/items", "/open/ping", "/orders/orders/1"] {
        let r = h.get(path, &[("Ocp-Apim-Subscription-Key", MASTER)]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.sent("x-product"), None, "{path}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_left_on_a_removed_subscription_does_not_block_the_load() {
    let data = temp_dir("stale");
    {
        let store = turnpike_gateway::keys::KeyStore::open(&data.join("data")).unwrap();
        store
            .set("renamed-away", Some(GOLD), Some("some-other-key-01"))
            .unwrap();
    }
    let d = data.join("data");
    let h = Harness::start_with(Path::new(FIXTURE), move |o| o.data_dir = d).await;
    let r = h
        .get("/echo/items", &[("Ocp-Apim-Subscription-Key", GOLD)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.sent("x-product").as_deref(), Some("gold"));
    h.stop().await;
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_scoped_headers_stay_and_cookies_are_joined() {
    let h = Harness::start().await;
    let hdrs = [
        ("Ocp-Apim-Subscription-Key", ALL_SUB),
        ("Connection", "keep-alive, X-Internal"),
        ("X-Internal", "secret"),
        ("X-Public", "ok"),
    ];
    // The pass-through path and the pipeline path alike.
    for path in ["/echox/items", "/echo/items"] {
        let r = h.get(path, &hdrs).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.sent("x-internal"), None, "{path}");
        assert_eq!(r.sent("x-public").as_deref(), Some("ok"), "{path}");
    }
    // HTTP/2 may send `Cookie` in several fields; the HTTP/1.1 backend gets one.
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    for path in ["/echox/items", "/echo/items"] {
        let req = Request::get(format!("http://{}{path}", h.addr))
            .header("Ocp-Apim-Subscription-Key", ALL_SUB)
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["headers"]["cookie"], "a=1; b=2", "{path}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_reaches_the_backend_as_written() {
    let h = Harness::start().await;
    let key = [("Ocp-Apim-Subscription-Key", ALL_SUB)];
    // Order, case, repeats, a bare name and escapes survive, on both paths.
    let q = "b=1&a=2&B=3&flag&x=%2F%20y";
    for path in ["/echox/items", "/echo/items"] {
        let r = h.get(&format!("{path}?{q}"), &key).await;
        assert_eq!(r.json()["query"], q, "{path}");
    }
    // A policy that changes the query rebuilds it (`rewrite-uri` here).
    let r = h.get("/echo/rewrite/9?x=1&flag", &key).await;
    assert_eq!(r.json()["query"], "x=1&flag=");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_bodies_a_policy_reads_pass_byte_for_byte() {
    let h = Harness::start().await;
    // Every byte value: not UTF-8, so the text a policy sees is decoded lossily.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let (status, headers, body) = h
        .call_bytes(
            "POST",
            "/echo/inspect?raw=1",
            &[("Ocp-Apim-Subscription-Key", ALL_SUB)],
            Bytes::from(bytes.clone()),
        )
        .await;
    assert_eq!(status, 200);
    // The policies read both bodies (their text lengths are in the headers)...
    assert!(headers.get("x-response-length").is_some());
    // ...and both went through unchanged: the backend echoed the exact bytes back.
    assert_eq!(body.as_ref(), bytes.as_slice());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_error_that_sets_only_a_body_keeps_the_steps_status() {
    let folder = temp_dir("bodyonly");
    copy_dir(Path::new(FIXTURE), &folder);
    let policy = folder.join("policy.xml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replacen(
            "<on-error>",
            "<on-error>\n        <set-body>@(context.LastError.Reason)</set-body>",
            1,
        ),
    )
    .unwrap();
    let h = Harness::start_with(&folder, |_| {}).await;
    let r = h.get("/nowhere", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (404, "OperationNotFound"));
    let r = h.get("/echo/items", &[]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (401, "SubscriptionKeyNotFound")
    );
    assert!(r.header("www-authenticate").is_some());
    h.stop().await;
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_header_never_reaches_the_backend_path() {
    let h = Harness::start().await;
    let r = h
        .get(
            "/echo/items",
            &[
                ("Ocp-Apim-Subscription-Key", ALL_SUB),
                ("Host", "h/../admin"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["path"], "/svc/echo/items");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_the_backend_scopes_to_its_connection_stay_behind() {
    let h = Harness::start().await;
    for path in ["/echox/items?connhdr=1", "/echo/items?connhdr=1"] {
        let r = h.get(path, &[("Ocp-Apim-Subscription-Key", ALL_SUB)]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.header("x-internal"), None, "{path}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jit_engine_answers_as_the_interpreter() {
    let interp = Harness::start().await;
    let jit = Harness::start_with(Path::new(FIXTURE), |o| o.jit = true).await;
    let calls: &[(&str, &[(&str, &str)])] = &[
        ("/echo/items", &[("Ocp-Apim-Subscription-Key", ALL_SUB)]),
        ("/echo/items", &[("Ocp-Apim-Subscription-Key", GOLD)]),
        ("/echo/items", &[("Ocp-Apim-Subscription-Key", ECHO_SUB)]),
        ("/echo/items", &[]),
        ("/maps/tile", &[("Api-Version", "v3")]),
        ("/orders/orders/7", &[]),
        ("/orders;rev=2/orders/7", &[]),
        ("/open/ping", &[]),
        ("/stock/quote", &[]),
        ("/weather/v3/forecast", &[]),
        ("/nowhere", &[]),
        ("/secure/x", &[]),
    ];
    for (path, headers) in calls {
        let a = interp.get(path, headers).await;
        let b = jit.get(path, headers).await;
        assert_eq!(a.status, b.status, "{path}");
        // Request ids and the backends' ports differ between the two gateways; nothing else
        // may.
        let strip = |s: &str| {
            let mut out = String::new();
            let mut rest = s;
            while let Some(i) = rest.find("127.0.0.1:") {
                out.push_str(&rest[..i + 10]);
                rest = rest[i + 10..].trim_start_matches(|c: char| c.is_ascii_digit());
                out.push_str("PORT");
            }
            out.push_str(rest);
            out.lines()
                .filter(|l| !l.contains("activityId") && !l.contains("request-id"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&a.body), strip(&b.body), "{path}");
        for name in ["x-route", "x-gateway", "x-plan", "content-type"] {
            assert_eq!(a.headers.get(name), b.headers.get(name), "{path}: {name}");
        }
    }
    interp.stop().await;
    jit.stop().await;
}
