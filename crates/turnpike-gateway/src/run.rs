//! `turnpike run`: the process around a [`Gateway`]: runtime, listeners, signals (SIGTERM and
//! SIGINT stop gracefully, SIGHUP reloads), the folder watcher and the key database watcher.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::generation::Scope;
use crate::server::{Gateway, Options};

/// How `turnpike run` runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The gateway's options.
    pub gateway: Options,
    /// The public listener.
    pub listen: SocketAddr,
    /// The admin listener (off when `None`).
    pub admin_listen: Option<SocketAddr>,
    /// Reload when the folder changes.
    pub watch: bool,
    /// Worker threads (1: a single-threaded runtime).
    pub workers: usize,
    /// How long calls in flight may take to finish at shutdown.
    pub grace: Duration,
}

/// Runs until SIGTERM or SIGINT. Start-up lines go to `banner`; a folder that does not load
/// is an error with its diagnostics.
pub fn run(options: RunOptions, banner: &mut dyn Write) -> Result<(), String> {
    let gateway = Gateway::load(options.gateway.clone(), None).map_err(|e| e.to_string())?;
    let runtime = if options.workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.workers)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(options.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
        let admin = match options.admin_listen {
            Some(a) => Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on {a} (admin): {e}"))?,
            ),
            None => None,
        };
        write_banner(&gateway, &listener, admin.as_ref(), banner);
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Some(admin) = admin {
            let g = gateway.clone();
            let rx = stop_rx.clone();
            tokio::spawn(async move { g.serve_admin(admin, stopped(rx)).await });
        }
        spawn_signals(gateway.clone(), stop_tx);
        spawn_key_watch(gateway.clone());
        if options.watch {
            spawn_folder_watch(gateway.clone());
        }
        gateway
            .serve(listener, stopped(stop_rx), options.grace)
            .await;
        gateway.flush_log();
        note!("stopped");
        Ok(())
    })
}

fn write_banner(
    gateway: &Gateway,
    listener: &TcpListener,
    admin: Option<&TcpListener>,
    out: &mut dyn Write,
) {
    let g = gateway.generation();
    let ops: usize = g.apis.iter().map(|a| a.operations.len()).sum();
    let mut text = String::new();
    for w in &g.warnings {
        text.push_str(&format!("turnpike: {w}\n"));
    }
    text.push_str(&format!(
        "turnpike: serving `{}`: {} API{}, {} operation{}\n",
        gateway.dir().display(),
        g.apis.len(),
        if g.apis.len() == 1 { "" } else { "s" },
        ops,
        if ops == 1 { "" } else { "s" },
    ));
    if let Some(Ok(a)) = admin.map(TcpListener::local_addr) {
        text.push_str(&format!(
            "turnpike: admin on http://{a} (GET /health, POST /reload)\n"
        ));
    }
    for s in &gateway.keys().subscriptions {
        let scope = match &s.scope {
            Scope::Product(p) => format!("product `{p}`"),
            Scope::Api(a) => format!("API `{a}`"),
            Scope::AllApis => "all APIs".to_string(),
            Scope::Unknown(x) => format!("scope `{x}`"),
        };
        text.push_str(&format!(
            "turnpike: subscription `{}` ({scope}, {}): key {}\n",
            s.name, s.state, s.keys.primary
        ));
    }
    // Last: a script waiting for the gateway reads up to this line.
    if let Ok(a) = listener.local_addr() {
        text.push_str(&format!("turnpike: listening on http://{a}\n"));
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn spawn_signals(gateway: Gateway, stop: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            note!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => reload(&gateway, "SIGHUP").await,
            }
        }
        note!("stopping; calls in flight finish");
        let _ = stop.send(true);
    });
}

async fn reload(gateway: &Gateway, why: &str) {
    let g = gateway.clone();
    match tokio::task::spawn_blocking(move || g.reload()).await {
        Ok(Ok(r)) => note!(
            "reloaded ({why}): {} APIs, {} operations",
            r.apis,
            r.operations
        ),
        Ok(Err(e)) => {
            note!("reload ({why}) failed; the previous folder keeps serving\n{e}");
        }
        Err(_) => note!("reload ({why}) failed"),
    }
}

/// Polls the folder; reloads once a change has settled (no further change for one poll).
fn spawn_folder_watch(gateway: Gateway) {
    tokio::spawn(async move {
        let dir = gateway.dir();
        let fp = |d: std::path::PathBuf| async move {
            tokio::task::spawn_blocking(move || crate::watch::fingerprint(&d))
                .await
                .unwrap_or(0)
        };
        let mut seen = fp(dir.clone()).await;
        let mut pending: Option<u64> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = fp(dir.clone()).await;
            match pending {
                Some(p) if p == now => {
                    pending = None;
                    seen = now;
                    reload(&gateway, "the folder changed").await;
                }
                _ if now != seen => pending = Some(now),
                _ => pending = None,
            }
        }
    });
}

/// Polls the key database's change counter so that `turnpike keys` changes reach a running
/// gateway (a file's size and time can miss a change; the counter cannot).
fn spawn_key_watch(gateway: Gateway) {
    tokio::spawn(async move {
        let version = |g: Gateway| async move {
            tokio::task::spawn_blocking(move || g.keys_version())
                .await
                .ok()
                .flatten()
        };
        let mut seen = version(gateway.clone()).await;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = version(gateway.clone()).await;
            if now != seen {
                seen = now;
                let g = gateway.clone();
                match tokio::task::spawn_blocking(move || g.refresh_keys()).await {
                    Ok(Ok(())) => note!("subscription keys changed; reloaded them"),
                    Ok(Err(e)) => note!("cannot re-read the keys: {e}"),
                    Err(_) => {}
                }
            }
        }
    });
}
