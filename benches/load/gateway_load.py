#!/usr/bin/env python3
"""Load test: Turnpike against nginx as a reverse proxy, on one 2-core machine.

Follows ../shared/bench/README.md: the nginx backend and the proxy under test share CPU 1,
wrk (-t1 -c32) runs on CPU 0; contenders are interleaved, each run lasts --duration seconds,
medians over --rounds rounds; a run in which other processes used more than 10% of the
machine is discarded and repeated. The stable figure is CPU time per request of the proxy
process (utime + stime from /proc/PID/stat over the requests wrk completed).

Rows:
  nginx                     nginx proxy (the reference)
  hyper floor               the least a hyper + tokio proxy does (examples/minimal_proxy)
  turnpike                  passthrough API, access log off
  turnpike + access log     passthrough API, defaults (access log on, to a file)
  turnpike chain            the realistic chain (key, set-variable, choose, two set-header,
                            JSON body rewritten with JObject), access log off
  turnpike --engine jit     the same chain as native code (the default engine); the turnpike
                            rows above run with --engine interp

Usage: python3 benches/load/gateway_load.py [--duration 10] [--rounds 3] [--no-build]
Needs nginx and wrk (Debian packages `nginx-light` and `wrk`; installed when missing).
"""

import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")
SITE = os.path.join(ROOT, "benches", "load", "site")
OVERRIDES = os.path.join(ROOT, "benches", "load", "configuration.bench.yaml")
KEY = "bench-primary-key-0001"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [p for p, b in (("nginx-light", "nginx"), ("wrk", "wrk")) if not shutil.which(b) and not os.path.exists("/usr/sbin/" + b)]
    if missing:
        print(f"installing {' '.join(missing)} from Debian's packages", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, capture_output=True).returncode != 0:
            sh(["apt-get", "update", "-q"], env=env, capture_output=True)
            sh(["apt-get", "install", "-y", "-q", *missing], env=env, capture_output=True)


def nginx_bin():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15; after the `comm)` split they are 11 and 12.
    return int(fields[11]) + int(fields[12])


def machine_ticks():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + vals[4]
    return sum(vals) - idle


def start_nginx(conf_name, run):
    src = os.path.join(SHARED_BENCH, conf_name)
    with open(src) as f:
        text = f.read().replace("@RUN@", run)
    conf = os.path.join(run, conf_name)
    with open(conf, "w") as f:
        f.write(text)
    sh(["taskset", "-c", "1", nginx_bin(), "-c", conf, "-p", run], stderr=subprocess.DEVNULL)
    pidfile = re.search(r"pid\s+([^;]+);", text).group(1)
    for _ in range(50):
        if os.path.exists(pidfile):
            break
        time.sleep(0.1)
    master = int(open(pidfile).read().strip())
    time.sleep(0.3)
    worker = int(subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()[0])
    return master, worker


def wait_port(port, timeout=30):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def start_turnpike(port, run, name, access_log, engine="interp"):
    args = ["taskset", "-c", "1", os.path.join(ROOT, "target", "release", "turnpike"), "run", SITE,
            "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(run, name),
            "--overrides", OVERRIDES, "--workers", "1", "--engine", engine]
    if not access_log:
        args.append("--no-access-log")
    out = open(os.path.join(run, f"{name}.access.log"), "w")
    err = open(os.path.join(run, f"{name}.err"), "w")
    p = subprocess.Popen(args, stdout=out, stderr=err)
    wait_port(port)
    return p


def start_minimal(port):
    p = subprocess.Popen(["taskset", "-c", "1", os.path.join(ROOT, "target", "release", "examples", "minimal_proxy"),
                          f"127.0.0.1:{port}", "127.0.0.1:18080"])
    wait_port(port)
    return p


def parse_latency(text, pct):
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000.0 if unit == "us" else v * 1000.0 if unit == "s" else v


def one_run(pid, url, headers, duration, others_pids):
    cmd = ["taskset", "-c", "0", "wrk", "-t1", "-c32", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    before = cpu_ticks(pid)
    others_before = sum(cpu_ticks(p) for p in others_pids)
    m_before = machine_ticks()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out, _ = wrk.communicate()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = cpu_ticks(pid)
    others_after = sum(cpu_ticks(p) for p in others_pids)
    m_after = machine_ticks()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    proxy = after - before
    contenders = proxy + (others_after - others_before)
    # wrk's own CPU (the only child reaped during the run).
    wrk_ticks = ((children_after.ru_utime + children_after.ru_stime)
                 - (children_before.ru_utime + children_before.ru_stime)) * CLK_TCK
    other = max(0, (m_after - m_before) - contenders - wrk_ticks)
    total = 2 * duration * CLK_TCK
    return {
        "rps": rps,
        "p50": parse_latency(out, 50),
        "p99": parse_latency(out, 99),
        "cpu_us": proxy / CLK_TCK * 1e6 / max(requests, 1),
        "other_share": other / total,
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(SHARED_BENCH):
        raise SystemExit(f"{SHARED_BENCH} is missing: it holds the nginx configurations")
    ensure_tools()
    if not a.no_build:
        sh(["cargo", "build", "--release", "-p", "turnpike-cli"], cwd=ROOT)
        sh(["cargo", "build", "--release", "-p", "turnpike-benches", "--example", "minimal_proxy"], cwd=ROOT)
    run = tempfile.mkdtemp(prefix="turnpike-load-")
    procs = []
    masters = []
    try:
        bm, bw = start_nginx("backend-nginx.conf", run)
        pm, pw = start_nginx("proxy-nginx.conf", run)
        masters += [bm, pm]
        minimal = start_minimal(18084)
        tp = start_turnpike(18082, run, "tp", access_log=False)
        tp_log = start_turnpike(18083, run, "tplog", access_log=True)
        tp_jit = start_turnpike(18085, run, "tpjit", access_log=False, engine="jit")
        procs += [minimal, tp, tp_log, tp_jit]
        chain_headers = [f"Ocp-Apim-Subscription-Key: {KEY}", "X-Tier: gold"]
        contenders = [
            ("passthrough", "nginx", pw, "http://127.0.0.1:18081/pass/item", []),
            ("passthrough", "hyper floor", minimal.pid, "http://127.0.0.1:18084/pass/item", []),
            ("passthrough", "turnpike", tp.pid, "http://127.0.0.1:18082/pass/item", []),
            ("passthrough", "turnpike + access log", tp_log.pid, "http://127.0.0.1:18083/pass/item", []),
            ("chain", "turnpike", tp.pid, "http://127.0.0.1:18082/chain/item", chain_headers),
            ("chain", "turnpike --engine jit", tp_jit.pid, "http://127.0.0.1:18085/chain/item", chain_headers),
        ]
        # Warm up every contender (connections, pools, caches).
        for _, _, pid, url, hdrs in contenders:
            one_run(pid, url, hdrs, 2, [bw])
        results = {(s, n): [] for s, n, *_ in contenders}
        for r in range(a.rounds):
            for s, n, pid, url, hdrs in contenders:
                for attempt in range(3):
                    res = one_run(pid, url, hdrs, a.duration, [bw])
                    if res["other_share"] <= 0.10:
                        break
                    print(f"  discarded {s}/{n}: other processes used {res['other_share']:.0%} of the machine", flush=True)
                results[(s, n)].append(res)
                print(f"round {r + 1} {s:12} {n:22} {res['rps']:9.0f} req/s  {res['cpu_us']:6.2f} µs CPU/req  "
                      f"other {res['other_share']:.1%}", flush=True)
        med = {k: {f: statistics.median(x[f] for x in v) for f in ("rps", "p50", "p99", "cpu_us")} for k, v in results.items()}
        bad = {k: sum(x["non2xx"] for x in v) for k, v in results.items()}
        print()
        print(f"medians of {a.rounds} interleaved runs of {a.duration} s (wrk -t1 -c32 on CPU 0; proxy and backend on CPU 1)")
        print(f"| scenario    | proxy                  |   req/s | p50 ms | p99 ms | CPU µs/req | non-2xx |")
        print(f"|-------------|------------------------|--------:|-------:|-------:|-----------:|--------:|")
        for (s, n), m in med.items():
            print(f"| {s:11} | {n:22} | {m['rps']:7.0f} | {m['p50']:6.2f} | {m['p99']:6.2f} | {m['cpu_us']:10.2f} | {bad[(s, n)]:7} |")
        ng = med[("passthrough", "nginx")]["cpu_us"]
        print()
        print(f"turnpike passthrough CPU/req ÷ nginx, access log off: {med[('passthrough', 'turnpike')]['cpu_us'] / ng:.2f} (target ≤ 1.2)")
        print(f"turnpike passthrough CPU/req ÷ nginx, defaults:        {med[('passthrough', 'turnpike + access log')]['cpu_us'] / ng:.2f} (target ≤ 1.4)")
        print(f"hyper floor CPU/req ÷ nginx:                           {med[('passthrough', 'hyper floor')]['cpu_us'] / ng:.2f}")
        print(f"turnpike chain req/s ÷ turnpike passthrough req/s:     {med[('chain', 'turnpike')]['rps'] / med[('passthrough', 'turnpike')]['rps']:.2f} (target ≥ 0.7)")
        print(f"chain CPU/req, JIT ÷ interpreter:                      {med[('chain', 'turnpike --engine jit')]['cpu_us'] / med[('chain', 'turnpike')]['cpu_us']:.2f}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        for m in masters:
            try:
                os.kill(m, signal.SIGQUIT)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
