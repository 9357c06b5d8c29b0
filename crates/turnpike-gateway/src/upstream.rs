//! The gateway's side of `forward-request`: a pooled HTTP client, a connection limit per
//! backend, timeouts, and bodies streamed unless a policy reads them.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;

use crate::pool::{BackendPool, Lease};
use turnpike_pipeline::state::HttpMessage;
use turnpike_pipeline::{Backend, BackendError, BackendFuture, BackendRequest, BackendResponse};

/// A body the gateway sends: buffered text, or a body streamed through.
pub type OutBody = Either<Full<Bytes>, Streamed>;

/// A streamed body, holding its backend's connection (and permit) until it ends.
#[derive(Debug)]
pub struct Streamed {
    inner: Incoming,
    lease: Option<Lease>,
    counter: Option<Arc<AtomicU64>>,
}

impl Streamed {
    /// A backend's response body on a leased connection.
    fn leased(inner: Incoming, lease: Lease) -> Streamed {
        Streamed {
            inner,
            lease: Some(lease),
            counter: None,
        }
    }

    /// The body has ended: its connection may serve another request.
    fn release(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release();
        }
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        // A body nobody polled to the end, but which has no bytes left (an empty body, or
        // one whose last frame was read), leaves its connection reusable; any other closes it.
        if self.lease.is_some() && self.inner.is_end_stream() {
            self.release();
        }
    }
}

impl Streamed {
    /// A caller's request body, its bytes counted into `counter` when there is one.
    pub fn counted(inner: Incoming, counter: Option<Arc<AtomicU64>>) -> Streamed {
        Streamed {
            inner,
            lease: None,
            counter,
        }
    }
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let (Poll::Ready(Some(Ok(frame))), Some(c)) = (&polled, &self.counter)
            && let Some(d) = frame.data_ref()
        {
            c.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
        if self.lease.is_some()
            && matches!(polled, Poll::Ready(None | Some(Ok(_))))
            && self.inner.is_end_stream()
        {
            self.release();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Limits and timeouts of the client.
#[derive(Clone, Debug)]
pub struct UpstreamOptions {
    /// Concurrent requests per backend (scheme, host and port).
    pub connections_per_backend: usize,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Largest body buffered for a policy that reads it.
    pub max_buffered_body: usize,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            connections_per_backend: 1024,
            connect_timeout: Duration::from_secs(10),
            max_buffered_body: 4 * 1024 * 1024,
        }
    }
}

/// The backends' connection pools, shared by every request.
#[derive(Debug)]
pub struct Upstream {
    pools: Mutex<HashMap<String, Arc<BackendPool>>>,
    options: UpstreamOptions,
}

/// Headers that belong to one connection and are never passed on.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// [`HOP_BY_HOP`] as header names, for removal without parsing.
pub const HOP_BY_HOP_NAMES: [http::HeaderName; 8] = [
    http::header::CONNECTION,
    http::HeaderName::from_static("keep-alive"),
    http::header::PROXY_AUTHENTICATE,
    http::header::PROXY_AUTHORIZATION,
    http::HeaderName::from_static("proxy-connection"),
    http::header::TE,
    http::header::TRAILER,
    http::header::TRANSFER_ENCODING,
];

/// Removes the hop-by-hop headers (and `Upgrade`).
pub fn remove_hop_by_hop(h: &mut http::HeaderMap) {
    // One pass over the few headers there are, noting which hop-by-hop names occur, rather
    // than a lookup per name.
    let mut present = 0u16;
    for k in h.keys() {
        if let Some(i) = HOP_BY_HOP_NAMES.iter().position(|n| n == k) {
            present |= 1 << i;
        } else if k == http::header::UPGRADE {
            present |= 1 << HOP_BY_HOP_NAMES.len();
        }
    }
    if present == 0 {
        return;
    }
    // Headers that `Connection` names are hop-by-hop as well (`close` and `keep-alive` are
    // options, or names removed below anyway).
    let mut listed: Vec<http::HeaderName> = Vec::new();
    for v in h.get_all(http::header::CONNECTION) {
        for t in v.to_str().unwrap_or_default().split(',') {
            let t = t.trim();
            if t.is_empty()
                || t.eq_ignore_ascii_case("close")
                || HOP_BY_HOP.iter().any(|n| t.eq_ignore_ascii_case(n))
            {
                continue;
            }
            if let Ok(name) = http::HeaderName::from_bytes(t.as_bytes()) {
                listed.push(name);
            }
        }
    }
    for name in listed {
        h.remove(name);
    }
    for (i, name) in HOP_BY_HOP_NAMES.iter().enumerate() {
        if present & (1 << i) != 0 {
            h.remove(name);
        }
    }
    if present & (1 << HOP_BY_HOP_NAMES.len()) != 0 {
        h.remove(http::header::UPGRADE);
    }
}

/// The header names a `Connection` header lists (they belong to that connection too).
pub fn connection_listed(headers: &[(String, Vec<String>)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.iter())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether a header is one the gateway sets itself or never passes on.
pub fn skip_header(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
        || name.eq_ignore_ascii_case("content-length")
        || name.eq_ignore_ascii_case("host")
}

impl Upstream {
    /// A client with these options.
    pub fn new(options: UpstreamOptions) -> Upstream {
        Upstream {
            pools: Mutex::new(HashMap::new()),
            options,
        }
    }

    /// The options.
    pub fn options(&self) -> &UpstreamOptions {
        &self.options
    }

    /// The connection pool (and limit of calls in flight) of one backend.
    pub fn pool(&self, authority: &http::uri::Authority) -> Arc<BackendPool> {
        let mut map = self
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = map.get(authority.as_str()) {
            return Arc::clone(p);
        }
        Arc::clone(
            map.entry(authority.as_str().to_string())
                .or_insert_with(|| {
                    Arc::new(BackendPool::new(
                        authority,
                        self.options.connections_per_backend,
                        self.options.connect_timeout,
                    ))
                }),
        )
    }

    /// Sends a request as it is (the pass-through path; its URI in origin form): the
    /// response's body is streamed and holds the backend's connection until it ends. The
    /// timeout covers the response's headers, and waiting for a free slot.
    pub async fn send_raw(
        pool: &Arc<BackendPool>,
        request: hyper::Request<OutBody>,
        timeout: Duration,
    ) -> Result<hyper::Response<Streamed>, BackendError> {
        let (response, lease) = tokio::time::timeout(timeout, pool.send(request))
            .await
            .map_err(|_| BackendError::Timeout)?
            .map_err(|e| BackendError::Connection(e.0))?;
        let (mut parts, incoming) = response.into_parts();
        remove_hop_by_hop(&mut parts.headers);
        Ok(hyper::Response::from_parts(
            parts,
            Streamed::leased(incoming, lease),
        ))
    }
}

/// One request's use of the client: the body to stream to the backend, and the backend's
/// body kept for streaming to the caller.
#[derive(Debug)]
pub struct Call<'a> {
    upstream: &'a Upstream,
    request_body: Mutex<Option<Streamed>>,
    response_body: Mutex<Option<Streamed>>,
    stream_response: bool,
    /// The caller's `Host`: the backend gets its own host unless a policy set another.
    incoming_host: Option<String>,
    /// The caller's body as bytes, when it was read for a policy: sent as it came unless a
    /// policy changed the text (text is decoded lossily; bytes are not).
    original_request: Option<Bytes>,
    /// The backend's body as bytes, when it was read for a policy.
    original_response: Mutex<Option<Bytes>>,
}

/// Whether `text` is still what decoding `bytes` gave: no policy replaced the body.
pub fn unchanged(text: &str, bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => s == text,
        Err(_) => String::from_utf8_lossy(bytes) == text,
    }
}

impl<'a> Call<'a> {
    /// A call; `request_body` is the caller's body when no policy reads it, and
    /// `stream_response` says that no policy reads the backend's body.
    pub fn new(
        upstream: &'a Upstream,
        request_body: Option<Streamed>,
        stream_response: bool,
    ) -> Call<'a> {
        Call {
            upstream,
            request_body: Mutex::new(request_body),
            response_body: Mutex::new(None),
            stream_response,
            incoming_host: None,
            original_request: None,
            original_response: Mutex::new(None),
        }
    }

    /// Records the caller's body as read, so that an unchanged body is sent byte for byte.
    pub fn with_original_request(mut self, body: Option<Bytes>) -> Self {
        self.original_request = body;
        self
    }

    /// The backend's body as read for a policy, if it was.
    pub fn take_original_response(&self) -> Option<Bytes> {
        self.original_response
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Records the caller's `Host` header, so that only a `Host` a policy set is forwarded.
    pub fn with_incoming_host(mut self, host: Option<String>) -> Self {
        self.incoming_host = host;
        self
    }

    /// The backend's body, when it was streamed.
    pub fn take_response_body(&self) -> Option<Streamed> {
        self.response_body
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    async fn send_inner(&self, req: BackendRequest<'_>) -> Result<BackendResponse, BackendError> {
        let uri: hyper::Uri = req.url.parse().map_err(|e| {
            BackendError::Connection(format!("invalid backend URL `{}`: {e}", req.url))
        })?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(BackendError::Connection(format!(
                    "backend URL `{}` uses `{other}`; Turnpike forwards over http only so far",
                    req.url
                )));
            }
            None => {
                return Err(BackendError::Connection(format!(
                    "backend URL `{}` is not absolute",
                    req.url
                )));
            }
        }
        let Some(authority) = uri.authority() else {
            return Err(BackendError::Connection(format!(
                "backend URL `{}` has no host",
                req.url
            )));
        };
        let pool = self.upstream.pool(authority);
        // Origin form, from the parsed parts (no second parse).
        let mut origin = uri.into_parts();
        origin.scheme = None;
        origin.authority = None;
        if origin.path_and_query.is_none() {
            origin.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        let origin =
            hyper::Uri::from_parts(origin).unwrap_or_else(|_| hyper::Uri::from_static("/"));
        let method = hyper::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| BackendError::Connection(format!("invalid method `{}`", req.method)))?;
        // Headers go straight into a map (a request builder moves its parts on every header).
        let invalid = |what: &str, text: &str| {
            BackendError::Connection(format!("invalid request: invalid header {what} `{text}`"))
        };
        let mut headers = http::HeaderMap::with_capacity(req.message.headers.len() + 1);
        let listed = connection_listed(&req.message.headers);
        for (name, values) in req.message.headers.iter() {
            if listed.iter().any(|l| name.eq_ignore_ascii_case(l)) {
                continue;
            }
            if name.eq_ignore_ascii_case("host") {
                // `set-header name="Host"` reaches the backend; the caller's Host does not.
                if let Some(v) = values.first()
                    && Some(v) != self.incoming_host.as_ref()
                {
                    let value = http::HeaderValue::from_str(v).map_err(|_| invalid("value", v))?;
                    headers.append(http::header::HOST, value);
                }
                continue;
            }
            if skip_header(name) {
                continue;
            }
            let header =
                http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("name", name))?;
            for v in values {
                let value = http::HeaderValue::from_str(v).map_err(|_| invalid("value", v))?;
                headers.append(header.clone(), value);
            }
        }
        let body: OutBody = match &req.message.body {
            Some(text) => match &self.original_request {
                Some(raw) if unchanged(text, raw) => Either::Left(Full::new(raw.clone())),
                _ => Either::Left(Full::new(Bytes::copy_from_slice(text.as_bytes()))),
            },
            None => match self
                .request_body
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
            {
                Some(streamed) => Either::Right(streamed),
                None => Either::Left(Full::new(Bytes::new())),
            },
        };
        let mut request = hyper::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = origin;
        *request.headers_mut() = headers;
        let timeout = Duration::from_secs_f64(req.timeout_secs.clamp(0.001, 86_400.0));
        let work = async {
            // The timeout covers waiting for a free slot too.
            let (response, lease) = pool
                .send(request)
                .await
                .map_err(|e| BackendError::Connection(e.0))?;
            let (parts, incoming) = response.into_parts();
            // Hop-by-hop headers, and those `Connection` names, stay with this connection
            // (skipped here rather than removed from the map first).
            let listed: Vec<String> = parts
                .headers
                .get_all(http::header::CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|t| {
                    !t.is_empty()
                        && !t.eq_ignore_ascii_case("close")
                        && !HOP_BY_HOP.iter().any(|h| t.eq_ignore_ascii_case(h))
                })
                .map(str::to_ascii_lowercase)
                .collect();
            let mut headers: Vec<(String, Vec<String>)> =
                Vec::with_capacity(parts.headers.keys_len());
            for (name, value) in &parts.headers {
                if HOP_BY_HOP.iter().any(|h| name.as_str() == *h)
                    || listed.iter().any(|l| name.as_str() == l)
                {
                    continue;
                }
                let v = match value.to_str() {
                    Ok(s) => s.to_owned(),
                    Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                };
                match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
                    Some(h) => h.1.push(v),
                    None => headers.push((name.as_str().to_string(), vec![v])),
                }
            }
            let body = if self.stream_response {
                // The connection goes with the body: it stays busy until the body ends.
                *self
                    .response_body
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(Streamed::leased(incoming, lease));
                None
            } else {
                let limited = Limited::new(incoming, self.upstream.options.max_buffered_body);
                let bytes = limited
                    .collect()
                    .await
                    .map_err(|e| {
                        BackendError::Connection(format!("reading the backend's body: {e}"))
                    })?
                    .to_bytes();
                lease.release();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                *self
                    .original_response
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bytes);
                Some(text)
            };
            // The backend's own reason phrase when it sent one.
            let reason = parts
                .extensions
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
                .or_else(|| parts.status.canonical_reason().map(str::to_string))
                .unwrap_or_default();
            Ok::<_, BackendError>((parts.status, reason, headers, body))
        };
        // The timeout covers the response's headers, and its body when it is buffered.
        let (status, reason, headers, body) = tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| BackendError::Timeout)??;
        Ok(BackendResponse {
            status: i32::from(status.as_u16()),
            reason,
            message: HttpMessage {
                headers: Arc::new(headers),
                body,
            },
        })
    }
}

impl Backend for Call<'_> {
    fn send<'a>(&'a self, req: BackendRequest<'a>) -> BackendFuture<'a> {
        Box::pin(self.send_inner(req))
    }
}
