//! Backend connections: one pool of HTTP/1.1 connections per backend (`host:port`), each
//! connection driven by its own task, and a limit on calls in flight per backend.
//!
//! A connection goes back to its pool when the response body it carried has ended (see
//! [`Lease`]); a body dropped half-read closes its connection. Compared with hyper-util's
//! general client this does no per-request pool-key hashing, no absolute-URI handling and no
//! task per request to wait for the connection to become idle; the load script measures the
//! difference.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::upstream::OutBody;

/// How long an idle connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The connections to one backend.
#[derive(Debug)]
pub struct BackendPool {
    /// `host:port` as it is dialled.
    authority: String,
    /// The `Host` header sent when the request has none (the port only when not 80).
    host: http::HeaderValue,
    /// Calls in flight to this backend.
    limit: Arc<Semaphore>,
    idle: Mutex<Vec<(SendRequest<OutBody>, Instant)>>,
    max_idle: usize,
    connect_timeout: Duration,
}

/// Why a call to a backend failed before its response's headers arrived.
#[derive(Debug)]
pub struct PoolError(pub String);

/// A connection in use, with the backend's permit: both go back when the response body ends.
#[derive(Debug)]
pub struct Lease {
    pool: Arc<BackendPool>,
    conn: Option<SendRequest<OutBody>>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// The response body has ended: the connection may carry another request.
    pub fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put_back(conn);
        }
    }
}

impl BackendPool {
    /// A pool for `authority` (`host` or `host:port`; port 80 when none is given).
    pub fn new(
        authority: &http::uri::Authority,
        limit: usize,
        connect_timeout: Duration,
    ) -> BackendPool {
        let port = authority.port_u16().unwrap_or(80);
        let host = if port == 80 {
            authority.host().to_string()
        } else {
            format!("{}:{port}", authority.host())
        };
        BackendPool {
            authority: format!("{}:{port}", authority.host()),
            host: http::HeaderValue::from_str(&host)
                .unwrap_or_else(|_| http::HeaderValue::from_static("localhost")),
            limit: Arc::new(Semaphore::new(limit.max(1))),
            idle: Mutex::new(Vec::new()),
            max_idle: limit.max(1),
            connect_timeout,
        }
    }

    /// Sends `req` (its URI in origin form) once a slot is free; retries once on a fresh
    /// connection when a pooled one turned out closed before the request was written.
    ///
    /// The common case (a free slot and a ready idle connection) hands the request to the
    /// connection before the first await, so that the future holds only the response's
    /// receiver: every call's future embeds this one.
    pub fn send(
        self: &Arc<Self>,
        mut req: hyper::Request<OutBody>,
    ) -> impl Future<Output = Result<(hyper::Response<Incoming>, Lease), PoolError>> + Send + use<>
    {
        if !req.headers().contains_key(http::header::HOST) {
            req.headers_mut()
                .insert(http::header::HOST, self.host.clone());
        }
        let pool = Arc::clone(self);
        let ready = match Arc::clone(&self.limit).try_acquire_owned() {
            Ok(permit) => self.take_idle().map(|conn| (permit, conn)),
            Err(_) => None,
        };
        let fast = match ready {
            Some((permit, mut conn)) => {
                let sent = conn.try_send_request(req);
                Ok((permit, conn, sent))
            }
            None => Err(req),
        };
        async move {
            match fast {
                Ok((permit, conn, sent)) => match sent.await {
                    Ok(response) => Ok((response, pool.lease(conn, permit))),
                    Err(mut e) => match e.take_message() {
                        // Not written: the pooled connection had closed under us.
                        Some(req) => Box::pin(pool.send_fresh(req, permit)).await,
                        None => Err(PoolError(describe(e.error()))),
                    },
                },
                Err(req) => Box::pin(pool.send_slow(req)).await,
            }
        }
    }

    fn lease(self: &Arc<Self>, conn: SendRequest<OutBody>, permit: OwnedSemaphorePermit) -> Lease {
        Lease {
            pool: Arc::clone(self),
            conn: Some(conn),
            _permit: permit,
        }
    }

    /// Waits for a slot, then sends on an idle connection or a new one.
    async fn send_slow(
        self: Arc<Self>,
        req: hyper::Request<OutBody>,
    ) -> Result<(hyper::Response<Incoming>, Lease), PoolError> {
        let permit = Arc::clone(&self.limit)
            .acquire_owned()
            .await
            .map_err(|_| PoolError("the backend's connection limit closed".into()))?;
        let Some(mut conn) = self.take_idle() else {
            return self.send_fresh(req, permit).await;
        };
        match conn.try_send_request(req).await {
            Ok(response) => Ok((response, self.lease(conn, permit))),
            Err(mut e) => match e.take_message() {
                Some(req) => self.send_fresh(req, permit).await,
                None => Err(PoolError(describe(e.error()))),
            },
        }
    }

    /// Sends on a new connection.
    async fn send_fresh(
        self: Arc<Self>,
        req: hyper::Request<OutBody>,
        permit: OwnedSemaphorePermit,
    ) -> Result<(hyper::Response<Incoming>, Lease), PoolError> {
        let mut conn = self.connect().await?;
        let response = conn
            .send_request(req)
            .await
            .map_err(|e| PoolError(describe(&e)))?;
        Ok((response, self.lease(conn, permit)))
    }

    /// The most recently used idle connection that is ready; closed and stale ones are
    /// dropped, ones not ready yet stay.
    fn take_idle(&self) -> Option<SendRequest<OutBody>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut i = idle.len();
        while i > 0 {
            i -= 1;
            let (conn, since) = &idle[i];
            if conn.is_closed() || now.duration_since(*since) > IDLE_TIMEOUT {
                idle.swap_remove(i);
            } else if conn.is_ready() {
                return Some(idle.swap_remove(i).0);
            }
        }
        None
    }

    fn put_back(&self, conn: SendRequest<OutBody>) {
        if conn.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push((conn, Instant::now()));
        }
    }

    async fn connect(&self) -> Result<SendRequest<OutBody>, PoolError> {
        let stream = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(self.authority.as_str()),
        )
        .await
        .map_err(|_| PoolError(format!("connecting to `{}` timed out", self.authority)))?
        .map_err(|e| PoolError(format!("connecting to `{}`: {e}", self.authority)))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| PoolError(describe(&e)))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Idle connections kept (for tests).
    pub fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn describe(e: &hyper::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
