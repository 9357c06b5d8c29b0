//! The access log: one JSON line per call, written by a thread of its own so that a slow
//! terminal or disk never holds a request. The line is written when the response body ends,
//! so latency and bytes out cover the whole response.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Where log lines go.
#[derive(Clone, Debug)]
pub struct AccessLog {
    tx: Sender<String>,
}

impl AccessLog {
    /// A log that writes to `out` from a thread of its own.
    pub fn spawn(out: Box<dyn Write + Send>) -> AccessLog {
        let (tx, rx) = channel::<String>();
        std::thread::Builder::new()
            .name("turnpike-access-log".into())
            .spawn(move || writer(rx, out))
            .ok();
        AccessLog { tx }
    }

    fn send(&self, line: String) {
        // The writer thread only ends when every sender is gone.
        let _ = self.tx.send(line);
    }
}

fn writer(rx: Receiver<String>, out: Box<dyn Write + Send>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    while let Ok(line) = rx.recv() {
        let _ = out.write_all(line.as_bytes());
        // Write what is queued in one go; flush when the queue is empty.
        while let Ok(line) = rx.try_recv() {
            let _ = out.write_all(line.as_bytes());
        }
        let _ = out.flush();
    }
}

/// What one log line says.
#[derive(Debug, Default)]
pub struct Entry {
    /// `context.RequestId` as a GUID.
    pub request_id: String,
    /// The method.
    pub method: String,
    /// The path (the query is left out: it may hold a subscription key).
    pub path: String,
    /// The caller's address.
    pub client_ip: String,
    /// API id (empty when no API matched).
    pub api: String,
    /// API revision.
    pub revision: u32,
    /// Operation id.
    pub operation: String,
    /// Product name.
    pub product: String,
    /// Subscription name.
    pub subscription: String,
    /// The response status.
    pub status: u16,
    /// `LastError.Reason` when the call failed.
    pub error_reason: String,
    /// Bytes of the request body.
    pub bytes_in: Arc<AtomicU64>,
}

/// A response body that counts its bytes and writes the log line when it ends or is dropped.
#[derive(Debug)]
pub struct Logged<B> {
    inner: B,
    log: Option<(AccessLog, Entry, Instant, SystemTime)>,
    bytes_out: u64,
}

impl<B> Logged<B> {
    /// Wraps a body; `log` is `None` when the access log is off.
    pub fn new(inner: B, log: Option<(AccessLog, Entry, Instant, SystemTime)>) -> Logged<B> {
        Logged {
            inner,
            log,
            bytes_out: 0,
        }
    }

    fn finish(&mut self) {
        if let Some((log, e, start, time)) = self.log.take() {
            let latency = start.elapsed();
            let line = serde_json::json!({
                "time": crate::time::rfc3339(time),
                "requestId": e.request_id,
                "method": e.method,
                "path": e.path,
                "clientIp": e.client_ip,
                "api": e.api,
                "apiRevision": e.revision,
                "operation": e.operation,
                "product": e.product,
                "subscription": e.subscription,
                "status": e.status,
                "errorReason": e.error_reason,
                "latencyMs": (latency.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
                "bytesIn": e.bytes_in.load(Ordering::Relaxed),
                "bytesOut": self.bytes_out,
            });
            log.send(format!("{line}\n"));
        }
    }
}

impl<B> Drop for Logged<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Logged<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    self.bytes_out += d.len() as u64;
                }
            }
            Poll::Ready(None) => self.finish(),
            _ => {}
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
