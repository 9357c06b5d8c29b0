//! `turnpike run` and `turnpike keys`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use turnpike_gateway::keys::{KeyStore, Which, mask};
use turnpike_gateway::net::Cidr;
use turnpike_gateway::run::RunOptions;

/// The data folder when none is given: beside where the gateway starts, outside the artifact
/// folder, so that keys never end up in its git repository.
const DEFAULT_DATA_DIR: &str = ".turnpike";

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The APIOps artifact folder to serve.
    dir: PathBuf,
    /// Address of the gateway.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the admin listener (`GET /health`, `POST /reload`); off unless given.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// Folder of the key database (created at first start).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// An APIOps overrides file (`configuration.<env>.yaml`).
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// The engine that runs policy expressions: native code, or the interpreter alone.
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// Reload when a file of the folder changes.
    #[arg(long)]
    watch: bool,
    /// Do not write the access log (one JSON line per call on standard output).
    #[arg(long)]
    no_access_log: bool,
    /// A proxy (address or CIDR range) whose `X-Forwarded-For` header is believed; repeatable.
    #[arg(long, value_name = "CIDR")]
    trusted_proxy: Vec<String>,
    /// Worker threads (1: everything on one thread). Default: one per core.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Concurrent requests per backend.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    backend_connections: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Jit,
    Interp,
}

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    /// Folder of the key database.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_DATA_DIR, global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// List subscriptions with the start of their keys.
    List,
    /// Print a subscription's two keys.
    Show {
        /// The subscription (its folder name).
        subscription: String,
    },
    /// Replace one key of a subscription with a new random one.
    Regenerate {
        /// The subscription.
        subscription: String,
        /// Which key.
        #[arg(long, value_enum, default_value_t = KeyArg::Primary)]
        key: KeyArg,
    },
    /// Set one or both keys of a subscription.
    Set {
        /// The subscription.
        subscription: String,
        /// The new primary key.
        #[arg(long)]
        primary: Option<String>,
        /// The new secondary key.
        #[arg(long)]
        secondary: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KeyArg {
    Primary,
    Secondary,
}

#[expect(
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
pub fn run(a: RunArgs) -> ExitCode {
    let mut trusted = Vec::new();
    for t in &a.trusted_proxy {
        match t.parse::<Cidr>() {
            Ok(c) => trusted.push(c),
            Err(e) => {
                eprintln!("error: --trusted-proxy: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if !a.dir.is_dir() {
        eprintln!("error: `{}` is not a folder", a.dir.display());
        return ExitCode::from(2);
    }
    let mut gateway = turnpike_gateway::Options::new(a.dir, a.data_dir);
    gateway.jit = a.engine == Engine::Jit;
    gateway.overrides = a.overrides;
    gateway.access_log = !a.no_access_log;
    gateway.trusted_proxies = trusted;
    gateway.upstream.connections_per_backend = a.backend_connections.max(1);
    let workers = a.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let options = RunOptions {
        gateway,
        listen: a.listen,
        admin_listen: a.admin_listen,
        watch: a.watch,
        workers,
        grace: Duration::from_secs(30),
    };
    match turnpike_gateway::run::run(options, &mut std::io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
pub fn keys(a: KeysArgs) -> ExitCode {
    let db = a.data_dir.join(turnpike_gateway::keys::DB_FILE);
    if !db.is_file() {
        eprintln!(
            "error: no key database at `{}`\n  = help: `turnpike run DIR --data-dir {}` creates it at first start",
            db.display(),
            a.data_dir.display()
        );
        return ExitCode::from(2);
    }
    let store = match KeyStore::open(&a.data_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let known = |name: &str| -> Result<(), String> {
        match store.get(name) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!(
                "no subscription `{name}` in the key database\n  = help: `turnpike keys list` shows the subscriptions"
            )),
            Err(e) => Err(e),
        }
    };
    let result = match a.command {
        KeysCommand::List => store.all().map(|rows| {
            println!(
                "{:<32} {:<8} {:<8} updated",
                "subscription", "primary", "secondary"
            );
            for r in rows {
                println!(
                    "{:<32} {:<8} {:<8} {}",
                    r.name,
                    mask(&r.primary),
                    mask(&r.secondary),
                    r.updated
                );
            }
        }),
        KeysCommand::Show { subscription } => known(&subscription)
            .and_then(|()| store.ensure(&subscription))
            .map(|r| {
                println!("primary:   {}\nsecondary: {}", r.primary, r.secondary);
            }),
        KeysCommand::Regenerate { subscription, key } => {
            let which = match key {
                KeyArg::Primary => Which::Primary,
                KeyArg::Secondary => Which::Secondary,
            };
            known(&subscription)
                .and_then(|()| store.regenerate(&subscription, which))
                .map(|r| {
                    let k = match which {
                        Which::Primary => r.primary,
                        Which::Secondary => r.secondary,
                    };
                    println!("{} key of `{subscription}`: {k}", which.name());
                })
        }
        KeysCommand::Set {
            subscription,
            primary,
            secondary,
        } => {
            if primary.is_none() && secondary.is_none() {
                Err("give `--primary KEY`, `--secondary KEY` or both".to_string())
            } else {
                known(&subscription)
                    .and_then(|()| {
                        store.set(&subscription, primary.as_deref(), secondary.as_deref())
                    })
                    .map(|_| println!("keys of `{subscription}` set"))
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
