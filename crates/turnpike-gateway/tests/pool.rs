//! The backend connection pool against a raw TCP backend on port 0 that counts its
//! connections: reuse after a body ends, no reuse after a body dropped half-read, and calls
//! that still succeed when the backend closes idle connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use turnpike_gateway::pool::BackendPool;
use turnpike_gateway::upstream::{OutBody, Upstream};

#[derive(Clone, Copy)]
enum Mode {
    /// Keep-alive; the body is `size` bytes.
    KeepAlive { size: usize },
    /// Answer once, then close the connection without saying so.
    CloseAfterOne,
}

/// A backend that answers every GET with a body of `x`s and counts accepted connections.
async fn backend(mode: Mode) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let size = match mode {
                            Mode::KeepAlive { size } => size,
                            Mode::CloseAfterOne => 2,
                        };
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
                        if s.write_all(head.as_bytes()).await.is_err()
                            || s.write_all(&vec![b'x'; size]).await.is_err()
                        {
                            return;
                        }
                        if let Mode::CloseAfterOne = mode {
                            let _ = s.shutdown().await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

fn pool(addr: &str) -> Arc<BackendPool> {
    let upstream = Upstream::new(Default::default());
    upstream.pool(&addr.parse().unwrap())
}

fn get(path: &str) -> hyper::Request<OutBody> {
    hyper::Request::builder()
        .uri(path)
        .body(Either::Left(Full::new(Bytes::new())))
        .unwrap()
}

async fn call(pool: &Arc<BackendPool>) -> Bytes {
    let resp = Upstream::send_raw(pool, get("/x"), Duration::from_secs(5))
        .await
        .expect("the call succeeds");
    assert_eq!(resp.status(), 200);
    resp.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn a_connection_is_reused_once_its_body_has_ended() {
    let (addr, accepted) = backend(Mode::KeepAlive { size: 10 }).await;
    let pool = pool(&addr);
    for _ in 0..5 {
        assert_eq!(call(&pool).await.len(), 10);
        // Let the connection's task see the end of the message.
        tokio::task::yield_now().await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn an_empty_body_dropped_unread_keeps_the_connection() {
    let (addr, accepted) = backend(Mode::KeepAlive { size: 0 }).await;
    let pool = pool(&addr);
    for _ in 0..3 {
        let resp = Upstream::send_raw(&pool, get("/x"), Duration::from_secs(5))
            .await
            .unwrap();
        drop(resp);
        tokio::task::yield_now().await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_dropped_half_read_closes_its_connection() {
    let (addr, accepted) = backend(Mode::KeepAlive { size: 1 << 20 }).await;
    let pool = pool(&addr);
    let resp = Upstream::send_raw(&pool, get("/x"), Duration::from_secs(5))
        .await
        .unwrap();
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(first.data_ref().is_some_and(|d| !d.is_empty()));
    drop(body);
    assert_eq!(pool.idle_count(), 0);
    assert_eq!(call(&pool).await.len(), 1 << 20);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn calls_succeed_when_the_backend_closes_idle_connections() {
    let (addr, accepted) = backend(Mode::CloseAfterOne).await;
    let pool = pool(&addr);
    for i in 0..20 {
        assert_eq!(call(&pool).await.len(), 2, "call {i}");
        if i % 2 == 0 {
            // Give the connection's task time to see the close, half of the time.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn a_dead_backend_is_a_connection_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let pool = pool(&addr);
    let err = Upstream::send_raw(&pool, get("/x"), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, turnpike_pipeline::BackendError::Connection(ref m) if m.contains(&addr)),
        "{err:?}"
    );
}
