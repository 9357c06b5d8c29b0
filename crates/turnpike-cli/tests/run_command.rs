//! `turnpike run` and `turnpike keys` as a newcomer uses them: README's first command on the
//! quickstart folder, a call with the key it prints, key rotation, and a clean stop on SIGTERM.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("turnpike-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running gateway, killed when the test ends, failed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// Starts `turnpike run` and reads its banner until the listen line.
fn start(args: &[&str], data: &Path) -> (Running, String, Vec<String>) {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_turnpike"))
            .current_dir(repo())
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut banner = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "no banner: {banner:?}"
        );
        assert!(Instant::now() < deadline);
        banner.push(line.trim_end().to_string());
        if let Some(a) = line.trim().strip_prefix("turnpike: listening on http://") {
            break a.to_string();
        }
    };
    // Keep reading the rest of standard error so that the child never blocks on it.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
    });
    (child, addr, banner)
}

/// One HTTP/1.1 call; gives the status and the body.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1).unwrap_or_default();
    (status, body.to_string())
}

fn turnpike(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_turnpike"))
        .current_dir(repo())
        .args(args)
        .output()
        .unwrap()
}

fn sigterm(child: &Running) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn quickstart_serves_and_keys_rotate() {
    let data = temp("quickstart");
    let (mut child, addr, banner) = start(&["run", "examples/quickstart"], &data);
    let key_line = banner
        .iter()
        .find(|l| l.contains("subscription `starter-demo`"))
        .unwrap_or_else(|| panic!("no key in {banner:?}"));
    let key = key_line.rsplit(' ').next().unwrap().to_string();
    assert_eq!(key.len(), 32, "{key_line}");

    // No key needed for `hello`; a key for `catalog`.
    let (status, body) = get(&addr, "/hello/greeting?name=Ada", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Hello, Ada!"), "{body}");
    let (status, body) = get(&addr, "/catalog/products/7", &[]);
    assert_eq!(status, 401, "{body}");
    let (status, body) = get(
        &addr,
        "/catalog/products/7",
        &[("Ocp-Apim-Subscription-Key", &key)],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"plan\": \"starter\""), "{body}");

    // The key is in the data folder, and the same at the next start.
    let out = turnpike(&[
        "keys",
        "show",
        "starter-demo",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains(&format!("primary:   {key}")), "{shown}");
    let out = turnpike(&["keys", "list", "--data-dir", data.to_str().unwrap()]);
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains("starter-demo"), "{listed}");
    assert!(!listed.contains(&key), "list shows whole keys: {listed}");

    // Rotating the primary key reaches the running gateway.
    let out = turnpike(&[
        "keys",
        "set",
        "starter-demo",
        "--primary",
        "my-own-primary-key-01",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = get(
            &addr,
            "/catalog/products/1",
            &[("Ocp-Apim-Subscription-Key", &key)],
        );
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "the old key still works");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, _) = get(
        &addr,
        "/catalog/products/1",
        &[("Ocp-Apim-Subscription-Key", "my-own-primary-key-01")],
    );
    assert_eq!(status, 200);

    // SIGTERM: a clean stop, and one access-log line per call on standard output.
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 5, "{log}");
    assert_eq!(lines[0]["api"], "hello");
    assert_eq!(lines[0]["status"], 200);

    // Regenerate gives a new random key; an unknown subscription is an error.
    let out = turnpike(&[
        "keys",
        "regenerate",
        "starter-demo",
        "--key",
        "secondary",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("secondary key of `starter-demo`: ")
    );
    let out = turnpike(&[
        "keys",
        "show",
        "nobody",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("no subscription `nobody`")
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_folder_that_does_not_load_is_refused_with_diagnostics() {
    let dir = temp("broken");
    let folder = dir.join("site");
    std::fs::create_dir_all(folder.join("apis/a")).unwrap();
    std::fs::write(
        folder.join("apis/a/apiInformation.json"),
        r#"{"properties": {"path": "a", "subscriptionRequired": false}}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("policy.xml"),
        "<policies><inbound><set-header</policies>",
    )
    .unwrap();
    let out = turnpike(&[
        "run",
        folder.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.join("data").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("policy.xml"), "{err}");
    assert!(err.contains("the folder does not load"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_listener_reports_health_and_reloads() {
    let data = temp("admin");
    // The admin port: a free one, found by binding port 0 first.
    let admin = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let admin_addr = admin.local_addr().unwrap().to_string();
    drop(admin);
    let (mut child, addr, banner) = start(
        &[
            "run",
            "examples/quickstart",
            "--admin-listen",
            &admin_addr,
            "--no-access-log",
        ],
        &data,
    );
    assert!(banner.iter().any(|l| l.contains("admin on")), "{banner:?}");
    let (status, body) = get(&admin_addr, "/health", &[]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let mut s = TcpStream::connect(&admin_addr).unwrap();
    s.write_all(
        b"POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"reloaded\":true"), "{out}");
    let (status, _) = get(&addr, "/hello/greeting", &[]);
    assert_eq!(status, 200);
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let mut log = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert_eq!(log, "", "the access log is off");
    let _ = std::fs::remove_dir_all(&data);
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

/// Waits until the greeting's answer contains `want`.
fn wait_for_greeting(addr: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(addr, "/hello/greeting?name=Ada", &[]);
        if status == 200 && body.contains(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {want:?}; last answer {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Changes the greeting of the copied quickstart folder.
fn change_greeting(folder: &Path, from: &str, to: &str) {
    let p = folder.join("apis/hello/operations/get-greeting/policy.xml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{text}");
    std::fs::write(&p, text.replace(from, to)).unwrap();
}

#[test]
fn sighup_and_watch_reload_the_folder() {
    let dir = temp("reload");
    let folder = dir.join("site");
    copy_dir(&repo().join("examples/quickstart"), &folder);
    let data = dir.join("data");

    // SIGHUP: the change is served only after the signal.
    let (mut child, addr, _) = start(&["run", folder.to_str().unwrap(), "--no-access-log"], &data);
    wait_for_greeting(&addr, "Hello, Ada!");
    change_greeting(&folder, "Hello, ", "Howdy, ");
    std::thread::sleep(Duration::from_millis(1200));
    let (_, body) = get(&addr, "/hello/greeting?name=Ada", &[]);
    assert!(
        body.contains("Hello, Ada!"),
        "reloaded without a signal: {body}"
    );
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for_greeting(&addr, "Howdy, Ada!");
    sigterm(&child);
    assert!(child.wait().unwrap().success());

    // --watch: a saved change is picked up by itself.
    let (mut child, addr, _) = start(
        &[
            "run",
            folder.to_str().unwrap(),
            "--watch",
            "--no-access-log",
        ],
        &data,
    );
    wait_for_greeting(&addr, "Howdy, Ada!");
    change_greeting(&folder, "Howdy, ", "Ahoy, ");
    wait_for_greeting(&addr, "Ahoy, Ada!");
    // A change that breaks the folder keeps the last good one serving.
    std::fs::write(folder.join("policy.xml"), "<policies><inbound><set-header").unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    wait_for_greeting(&addr, "Ahoy, Ada!");
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}
