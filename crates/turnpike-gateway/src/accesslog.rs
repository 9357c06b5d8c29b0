//! The access log: one JSON line per call, written by a thread of its own so that a slow
//! terminal or disk never holds a request. The line is written when the response body ends,
//! so latency and bytes out cover the whole response.

use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Where log lines go: a buffer that a thread of its own writes out every 50 ms, so that a
/// call pays for formatting its line and one uncontended lock, never for a system call, and a
/// slow terminal or disk never holds a request.
#[derive(Clone)]
pub struct AccessLog {
    inner: Arc<Inner>,
}

struct Inner {
    buf: Mutex<Vec<u8>>,
    out: Mutex<Box<dyn Write + Send>>,
    /// Lines dropped because the buffer was full (the writer fell behind).
    dropped: AtomicU64,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog").finish_non_exhaustive()
    }
}

/// The most the buffer holds between two writes; lines beyond it are dropped and counted.
const MAX_BUFFERED: usize = 16 * 1024 * 1024;

impl AccessLog {
    /// A log that writes to `out` from a thread of its own.
    pub fn spawn(out: Box<dyn Write + Send>) -> AccessLog {
        let inner = Arc::new(Inner {
            buf: Mutex::new(Vec::with_capacity(64 * 1024)),
            out: Mutex::new(out),
            dropped: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("turnpike-access-log".into())
            .spawn(move || {
                while let Some(inner) = weak.upgrade() {
                    inner.flush();
                    drop(inner);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .ok();
        AccessLog { inner }
    }

    /// Writes out what is buffered now.
    pub fn flush(&self) {
        self.inner.flush();
    }

    /// Lines dropped so far because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    fn send(&self, line: &[u8]) {
        let mut buf = self
            .inner
            .buf
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buf.len() + line.len() > MAX_BUFFERED {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            buf.extend_from_slice(line);
        }
    }
}

impl Inner {
    fn flush(&self) {
        // One writer at a time, so lines stay in order.
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let data = {
            let mut buf = self
                .buf
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if buf.is_empty() {
                return;
            }
            std::mem::replace(&mut *buf, Vec::with_capacity(64 * 1024))
        };
        let _ = out.write_all(&data);
        let _ = out.flush();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let data = std::mem::take(
            self.buf
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let out = self
            .out
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(&data);
        let _ = out.flush();
    }
}

/// What one log line says.
#[derive(Debug, Default)]
pub struct Entry {
    /// `context.RequestId`.
    pub request_id: u128,
    /// The method.
    pub method: String,
    /// The path (the query is left out: it may hold a subscription key).
    pub path: String,
    /// The caller's address.
    pub client_ip: Option<std::net::IpAddr>,
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
    /// (Counted only when the log is on.)
    pub bytes_in: Option<Arc<AtomicU64>>,
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
            use std::fmt::Write as _;
            let latency = start.elapsed();
            let mut line = String::with_capacity(384);
            let _ = writeln!(
                line,
                "{{\"time\":\"{}\",\"requestId\":\"{}\",\"method\":{},\"path\":{},\"clientIp\":\"{}\",\"api\":{},\"apiRevision\":{},\"operation\":{},\"product\":{},\"subscription\":{},\"status\":{},\"errorReason\":{},\"latencyMs\":{:.3},\"bytesIn\":{},\"bytesOut\":{}}}",
                crate::time::Rfc3339(time),
                Guid(e.request_id),
                Json(&e.method),
                Json(&e.path),
                e.client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                Json(&e.api),
                e.revision,
                Json(&e.operation),
                Json(&e.product),
                Json(&e.subscription),
                e.status,
                Json(&e.error_reason),
                latency.as_secs_f64() * 1000.0,
                e.bytes_in.map_or(0, |b| b.load(Ordering::Relaxed)),
                self.bytes_out,
            );
            log.send(line.as_bytes());
        }
    }
}

/// A request id as GUID text.
struct Guid(u128);

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (g >> 96) as u32,
            (g >> 80) as u16,
            (g >> 64) as u16,
            (g >> 48) as u16,
            g & 0xffff_ffff_ffff
        )
    }
}

/// A string as a JSON string literal.
struct Json<'a>(&'a str);

impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_matches_the_pipelines_activity_id() {
        for g in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            assert_eq!(Guid(g).to_string(), turnpike_pipeline::guid_text(g));
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(
            Json("a\"b\\c\nd\u{1}é").to_string(),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
        let v: serde_json::Value =
            serde_json::from_str(&Json("x\"\t\u{7}").to_string()).expect("valid JSON");
        assert_eq!(v, "x\"\t\u{7}");
    }
}
