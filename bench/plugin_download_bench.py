#!/usr/bin/env python3
"""`plugctl serve` plugin downloads versus nginx serving a plugin-server tree, in one run.

The Higress plugin-server is nginx serving /plugins/<name>/<version>/plugin.wasm from files
(../shared/docs/field-notes.md §5); `plugctl serve` answers the same URLs from its registry
store. This puts the same load on both:

  1. GET plugin.wasm (1 MiB), `wrk -t2 -c64`: requests/s and MiB/s (every response 200 with
     the whole body)
  2. the same GET with If-None-Match: <that server's own ETag> (nginx's ETag is
     "<mtime hex>-<size hex>", serve's the sha256), set by a wrk Lua script: requests/s of 304s

Setup: a 1 MiB plugin.wasm (the `plugctl demo` module padded with a custom section, so it is a
valid proxy-wasm module), built into an image with `plugctl build`; `plugctl serve DIR` on a
fresh directory gets it with `plugctl mirror --to HOST/plugins` (plain HTTP), and
`plugctl mirror --to plugin-server:WORK/www/plugins` writes the tree Debian's nginx-light
serves (`root WORK/www`, sendfile on, tcp_nopush on, access_log off, worker_processes auto,
keepalive_requests 1000000, as the plugin-server image's nginx serves files). Before the wrk
runs, each server's plugin.wasm is fetched once and its sha256 checked, and its 304 checked.

Each wrk run follows a 1 s warm-up run (none with --quick). A wrk run with errors (status
>= 400, timeouts, socket errors), or with fewer bytes than requests x 1 MiB in phase 1, or with
response bodies in phase 2, fails the run. The servers are stopped on exit, Ctrl-C and SIGTERM
included; every wait is bounded.

usage: bench/plugin_download_bench.py [--plugctl build/release/plugctl] [--seconds 10]
                                      [--quick] [--json FILE] [--workdir DIR] [--nginx-only]

--nginx-only: nginx alone (for a plugctl without serve downloads).
"""
import argparse
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import free_port, require  # noqa: E402

ap = argparse.ArgumentParser(description="plugctl serve downloads versus nginx")
ap.add_argument("--plugctl", default="build/release/plugctl")
ap.add_argument("--nginx", default="/usr/sbin/nginx")
ap.add_argument("--seconds", type=int, help="duration of each wrk run (default 10; --quick: 2)")
ap.add_argument("--quick", action="store_true", help="smoke run: 2 s runs, no warm-up")
ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
ap.add_argument("--workdir", help="keep everything (stores, logs, configs) in DIR")
ap.add_argument("--nginx-only", action="store_true", help="nginx alone")
args = ap.parse_args()
SECONDS = args.seconds or (2 if args.quick else 10)
WARMUP = 0 if args.quick else 1
if SECONDS < 1:
    sys.exit("--seconds must be at least 1")

plugctl = require(args.plugctl, ("wrk", args.nginx))

MIB = 1 << 20
WASM_SIZE = MIB
CONNECTIONS = 64
NAME, VERSION = "bench-plugin", "1.0.0"
PATH = f"/plugins/{NAME}/{VERSION}/plugin.wasm"
HTTP_TIMEOUT = 30  # seconds, for each socket operation of the script's own requests
READY_TIMEOUT = 30  # seconds for a server to accept connections
STOP_TIMEOUT = 10  # seconds from SIGTERM to SIGKILL

# done() prints one JSON line (latencies in microseconds); init() sets If-None-Match when the
# script is given an ETag argument (wrk's -H would do too, but an ETag's quotes survive this
# way without any shell).
WRK_LUA = r"""
init = function(args)
  if args[1] then wrk.headers["If-None-Match"] = args[1] end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%.0f,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%.0f,"p99_us":%.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def log_tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def run_checked(cmd, work, what, timeout=300):
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"{what}: {' '.join(cmd)} exited {proc.returncode}\n{proc.stderr[-2000:]}")
    return proc.stdout


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


def get(host, path, headers=None, timeout=HTTP_TIMEOUT):
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def wait_ready(proc, host, path, log, what):
    """Waits until GET path answers 200 (or the process dies); exits after READY_TIMEOUT."""
    deadline = time.monotonic() + READY_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}\n{log_tail(log)}")
        try:
            status = get(host, path, timeout=1.0)[0].status
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"{what}: GET {path} not 200 within {READY_TIMEOUT} s (last: {status})\n"
             f"{log_tail(log)}")


# ---------------------------------------------------------------------------------------------
# The plugin


def leb128(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def padded_module(wasm, size):
    """`wasm` with a trailing custom section "bench-padding" making it exactly `size` bytes
    (custom sections may follow the code section; runtimes skip them)."""
    name = b"bench-padding"
    for leb_len in range(1, 6):
        data = size - len(wasm) - 1 - leb_len - 1 - len(name)
        payload = 1 + len(name) + data
        if data >= 0 and len(leb128(payload)) == leb_len:
            return wasm + b"\0" + leb128(payload) + bytes([len(name)]) + name + bytes(data)
    sys.exit(f"cannot pad a {len(wasm)} byte module to {size} bytes")


def make_plugin(work):
    """Returns (OCI layout dir, plugin.wasm bytes): a Higress-shaped image of a 1 MiB module,
    tagged with a full reference as a mirror bundle names images."""
    demo = os.path.join(work, "demo")
    run_checked([plugctl, "--no-progress", "demo", "--dir", demo], work, "demo")
    plugin = os.path.join(work, "plugin")
    run_checked([plugctl, "--no-progress", "pull", f"oci:{demo}/layout:hello-world:1.0.0",
                 "-o", plugin], work, "pull")
    with open(os.path.join(plugin, "plugin.wasm"), "rb") as f:
        wasm = f.read()
    if wasm[:4] != b"\0asm" or len(wasm) >= WASM_SIZE:
        sys.exit(f"unexpected demo module ({len(wasm)} bytes)")
    wasm = padded_module(wasm, WASM_SIZE)
    with open(os.path.join(plugin, "plugin.wasm"), "wb") as f:
        f.write(wasm)
    layout = os.path.join(work, "layout")
    run_checked([plugctl, "--no-progress", "build", plugin, "--allow-missing", "-t",
                 f"oci:{layout}:bench.example.com/plugins/{NAME}:{VERSION}"], work, "build")
    return layout, wasm


# ---------------------------------------------------------------------------------------------
# Servers


def start_nginx(work, layout, procs):
    www = os.path.join(work, "www")
    run_checked([plugctl, "--no-progress", "mirror", f"oci:{layout}", "--to",
                 f"plugin-server:{www}/plugins"], work, "mirror --to plugin-server")
    prefix = os.path.join(work, "nginx")
    tmp = os.path.join(prefix, "tmp")
    os.makedirs(tmp, exist_ok=True)
    port = free_port()
    host = f"127.0.0.1:{port}"
    # As root, nginx's workers would drop to "nobody", who cannot enter a private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(f"  {k}_temp_path {tmp}/{k};\n"
                         for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"{user}daemon off;\nworker_processes auto;\npid {prefix}/nginx.pid;\n"
                f"error_log {prefix}/error.log;\nevents {{ worker_connections 1024; }}\n"
                f"http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n"
                f"  keepalive_requests 1000000;\n{temp_paths}"
                f"  types {{ application/wasm wasm; text/plain txt; }}\n"
                f"  server {{\n    listen {host};\n    root {www};\n  }}\n}}\n")
    log = os.path.join(prefix, "stderr.log")
    with open(log, "wb") as f:
        proc = subprocess.Popen([args.nginx, "-c", conf, "-p", prefix + "/"],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    procs.append(proc)
    wait_ready(proc, host, PATH, os.path.join(prefix, "error.log"), "nginx")
    return proc, host


def start_serve(work, layout, procs):
    store = os.path.join(work, "serve-store")
    os.makedirs(store, exist_ok=True)
    port = free_port()
    host = f"127.0.0.1:{port}"
    log = os.path.join(work, "serve.log")
    with open(log, "wb") as f:
        proc = subprocess.Popen([plugctl, "serve", store, "--listen", host],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    procs.append(proc)
    wait_ready(proc, host, "/v2/", log, "plugctl serve")
    run_checked([plugctl, "--no-progress", "--plain-http", "mirror", f"oci:{layout}", "--to",
                 f"{host}/plugins", "--no-gateway-check"], work, "mirror into serve")
    wait_ready(proc, host, PATH, log, "plugctl serve")
    return proc, host


# ---------------------------------------------------------------------------------------------
# Load


def wrk(name, host, lua, seconds, etag=None):
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout=10s", "-s", lua,
           f"http://{host}{PATH}"]
    if etag:
        cmd += ["--", etag]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line[len("WRK_RESULT "):])
    if proc.returncode != 0 or result is None:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    errors = {k: result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                     "status_errors", "timeouts") if result[k]}
    per_request = result["bytes"] / max(result["requests"], 1)
    short = per_request < WASM_SIZE if not etag else per_request > 4096
    if errors or result["requests"] == 0 or short:
        sys.exit(f"{name}: {' '.join(cmd)}: {result['requests']} requests, "
                 f"{result['bytes']:.0f} bytes, errors {errors}\n{proc.stdout}")
    secs = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / secs
    result["mib_s"] = result["bytes"] / MIB / secs
    return result


def measure(name, host, lua, wasm):
    resp, body = get(host, PATH)
    if resp.status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(wasm).digest():
        sys.exit(f"{name}: GET {PATH}: {resp.status}, {len(body)} bytes, not the plugin")
    etag = resp.getheader("ETag")
    if not etag:
        sys.exit(f"{name}: GET {PATH} has no ETag")
    resp, body = get(host, PATH, {"If-None-Match": etag})
    if resp.status != 304 or body:
        sys.exit(f"{name}: If-None-Match {etag}: {resp.status}, {len(body)} bytes")
    out = {"etag": etag}
    for phase, tag in (("200", None), ("304", etag)):
        if WARMUP:
            wrk(name, host, lua, WARMUP, tag)
        r = wrk(name, host, lua, SECONDS, tag)
        out[f"rps_{phase}"] = r["rps"]
        out[f"mib_s_{phase}"] = r["mib_s"]
        out[f"p99_ms_{phase}"] = r["p99_us"] / 1e3
        out[f"wrk_{phase}"] = r
        extra = f"  {r['mib_s']:8.0f} MiB/s" if phase == "200" else ""
        print(f"  {name:<6} {phase}: {r['rps']:10.0f} req/s{extra}   p99 "
              f"{r['p99_us'] / 1e3:7.2f} ms", flush=True)
    return out


ROWS = [
    ("1 MiB plugin.wasm 200 req/s", "rps_200", "{:.0f}"),
    ("1 MiB plugin.wasm 200 MiB/s", "mib_s_200", "{:.0f}"),
    ("1 MiB plugin.wasm 200 p99 ms", "p99_ms_200", "{:.2f}"),
    ("If-None-Match 304 req/s", "rps_304", "{:.0f}"),
    ("If-None-Match 304 p99 ms", "p99_ms_304", "{:.2f}"),
]


def report(results, names):
    ratios = {}
    print(f"\n{'figure (64 connections)':<30} {names[0]:>10} "
          f"{names[1] if len(names) > 1 else '':>10} {'ratio':>7}")
    for label, key, fmt in ROWS:
        base = results[names[0]][key]
        line = f"{label:<30} {fmt.format(base):>10}"
        if len(names) > 1:
            cand = results[names[1]][key]
            ratio = cand / base if base > 0 else None
            ratios[key] = ratio
            line += f" {fmt.format(cand):>10} " + (f"{ratio:7.2f}" if ratio else f"{'-':>7}")
        print(line)
    print("ratio = serve / nginx" if len(names) > 1 else "(--nginx-only)")
    return ratios


def main():
    procs = []
    work = args.workdir or tempfile.mkdtemp(prefix="plugctl-download-bench-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        layout, wasm = make_plugin(work)
        lua = os.path.join(work, "wrk.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        servers = []
        proc, host = start_nginx(work, layout, procs)
        servers.append(("nginx", host, proc))
        if not args.nginx_only:
            proc, host = start_serve(work, layout, procs)
            servers.append(("serve", host, proc))
        results = {}
        for name, host, proc in servers:
            print(f"{name}: http://{host}{PATH} (pid {proc.pid})", flush=True)
            results[name] = measure(name, host, lua, wasm)
        names = [s[0] for s in servers]
        ratios = report(results, names)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"settings": {"seconds": SECONDS, "warmup": WARMUP,
                                        "connections": CONNECTIONS, "wasm_bytes": WASM_SIZE,
                                        "cpus": os.cpu_count(),
                                        "nginx": args.nginx, "plugctl": plugctl},
                           "results": results, "ratios": ratios}, f, indent=2)
    finally:
        for p in procs:
            stop(p)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
