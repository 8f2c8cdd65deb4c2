#!/usr/bin/env python3
"""`plugctl serve` versus Debian's docker-registry, the same load on both, in one run.

Starts docker-registry (filesystem storage and in-memory blob descriptor cache, as in Debian's
default configuration; no access log) and `plugctl serve DIR --listen 127.0.0.1:PORT` (DIR an
empty directory; ready when GET /v2/ answers 200), each on a free loopback port with a fresh
temporary store, seeds both with the same images over HTTP, then measures each server in turn,
phase by phase (each wrk run after a 1 s warm-up run, none with --quick):

  1. manifest GET by tag, `wrk -t2 -c64` with Accept: OCI manifest: requests/s, p50/p99 latency
  2. 8 MiB blob GET, `wrk -t2 -c16`: MiB/s
  3. `plugctl mirror` of N plugin images (200-600 KiB of distinct random bytes each) from an
     OCI layout into the server (--plain-http --no-gateway-check): wall time
  4. the server's VmRSS, VmHWM and RssAnon (/proc/PID/status) after 1-3
  5. a B MiB blob (`head -c` of /dev/urandom) uploaded in one PATCH (Content-Length and
     Content-Range, streamed from the file) and downloaded back (digest checked), the server's
     VmRSS sampled every 20 ms: peak RSS over the RSS before each transfer

and prints both servers' figures with the ratios serve/registry the project targets (manifest
req/s >= 5, p99 < 1, blob MiB/s >= 2, mirror time <= 0.5, RSS <= 0.25); --json FILE writes
every figure, the ratios and the run's settings. wrk reports through a
Lua script written at run time; a wrk run with errors (status >= 400, timeouts, socket errors)
or with fewer bytes than requests x body size (a redirect is a success to wrk) fails the run,
as does any wrong status or digest in the script's own requests. Every wait is bounded; the
servers are stopped on exit, Ctrl-C and SIGTERM included.

usage: bench/serve_bench.py [--plugctl build/release/plugctl] [--seconds 10] [--images 50]
                            [--big-mib 500] [--quick] [--json FILE] [--workdir DIR]
                            [--baseline-only]

--quick: a smoke run for CI (2 s wrk runs, 5 images, a 64 MiB large blob). --baseline-only:
docker-registry alone. Hidden, for development: --server-cmd 'CMD' replaces
`{plugctl} serve {dir} --listen {listen}` (placeholders {plugctl} {dir} {listen} {host}
{port}; split like a shell line and executed directly, so the process measured is the server,
`env VAR=… prog` included; its stderr goes to WORKDIR/serve.log).
"""
import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import (  # noqa: E402
    MANIFEST, free_port, require, run, start_registry, write_layout)

ap = argparse.ArgumentParser(description="plugctl serve versus docker-registry")
ap.add_argument("--plugctl", default="build/release/plugctl")
ap.add_argument("--seconds", type=int, help="duration of each wrk run (default 10; --quick: 2)")
ap.add_argument("--images", type=int, help="images to mirror (default 50; --quick: 5)")
ap.add_argument("--big-mib", type=int, help="large blob size in MiB (default 500; --quick: 64)")
ap.add_argument("--quick", action="store_true", help="smoke run: 2 s, 5 images, 64 MiB")
ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
ap.add_argument("--workdir", help="keep everything (stores, logs) in DIR")
ap.add_argument("--baseline-only", action="store_true", help="docker-registry alone")
ap.add_argument("--server-cmd", default="{plugctl} serve {dir} --listen {listen}",
                help=argparse.SUPPRESS)
args = ap.parse_args()
SECONDS = args.seconds or (2 if args.quick else 10)
IMAGES = args.images if args.images is not None else (5 if args.quick else 50)
BIG_MIB = args.big_mib or (64 if args.quick else 500)
WARMUP = 0 if args.quick else 1
if SECONDS < 1 or IMAGES < 1 or BIG_MIB < 1:
    sys.exit("--seconds, --images and --big-mib must be at least 1")

plugctl = require(args.plugctl, ("wrk", "docker-registry", "/usr/bin/time", "head"))

MIB = 1 << 20
HTTP_TIMEOUT = 60  # seconds, for each socket operation of the script's own requests
READY_TIMEOUT = 30  # seconds for a server to answer GET /v2/ with 200
STOP_TIMEOUT = 10  # seconds from SIGTERM to SIGKILL
PLUGIN_REPO, PLUGIN_TAG = "bench/plugin", "1.0"  # the manifest of phase 1
BLOB_REPO, BLOB_TAG = "bench/blob", "8mib"  # the image whose 8 MiB layer phase 2 reads
BIG_REPO = "bench/big"  # phase 5

# wrk: headers from the command line; done() prints one JSON line (latencies in microseconds).
WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%.0f,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


# ---------------------------------------------------------------------------------------------
# Processes


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


def get_v2(host, timeout=1.0):
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.request("GET", "/v2/")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def log_tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def start_candidate(work, procs):
    """Starts the server under test from --server-cmd, its stdout and stderr in work/serve.log;
    returns (process, host) once GET /v2/ answers 200, or exits."""
    store = os.path.join(work, "serve-store")
    os.makedirs(store, exist_ok=True)
    port = free_port()
    host = f"127.0.0.1:{port}"
    cmd = [a.format(plugctl=plugctl, dir=store, listen=host, host="127.0.0.1", port=port)
           for a in shlex.split(args.server_cmd)]
    log = os.path.join(work, "serve.log")
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    procs.append(proc)
    deadline = time.monotonic() + READY_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{' '.join(cmd)} exited with {proc.returncode}")
        try:
            status = get_v2(host)
            if status == 200:
                return proc, host
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"{' '.join(cmd)}: GET /v2/ not 200 within {READY_TIMEOUT} s (last: {status})")


def proc_status(pid):
    """VmRSS, VmHWM and RssAnon of pid in MiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds in a thread; `peak` is the largest."""

    def __init__(self, pid, interval=0.02):
        self.pid, self.interval = pid, interval
        self.peak = proc_status(pid)["VmRSS"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, proc_status(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, proc_status(self.pid)["VmRSS"])


# ---------------------------------------------------------------------------------------------
# Registry HTTP (the distribution API, the same requests to both servers)


class Registry:
    def __init__(self, name, host, proc):
        self.name, self.host, self.proc = name, host, proc

    def conn(self):
        return http.client.HTTPConnection(self.host, timeout=HTTP_TIMEOUT)

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        """One request on a fresh connection; returns (response, body bytes)."""
        conn = self.conn()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status not in expect:
            sys.exit(f"{self.name}: {method} {path}: {resp.status} {resp.reason}\n"
                     f"{data[:2000].decode(errors='replace')}")
        return resp, data

    @staticmethod
    def _path(location):
        u = urllib.parse.urlsplit(location)
        return u.path + ("?" + u.query if u.query else "")

    def push_blob(self, repo, digest, size, body):
        """Uploads a blob: POST, one PATCH with Content-Length and Content-Range (body: bytes or
        an iterable of chunks), PUT ?digest=. Skipped when HEAD finds it."""
        head, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", expect=(200, 404))
        if head.status == 200:
            return
        resp, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/",
                               headers={"Content-Length": "0"}, expect=(202,))
        location = self._path(resp.getheader("Location"))
        resp, _ = self.request("PATCH", location, body=body, expect=(202,), headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(size),
            "Content-Range": f"0-{size - 1}"})
        location = self._path(resp.getheader("Location"))
        sep = "&" if "?" in location else "?"
        self.request("PUT", f"{location}{sep}digest={digest}",
                     headers={"Content-Length": "0"}, expect=(201,))

    def push_layout(self, layout):
        """Pushes every image of an OCI layout, its ref name REPO:TAG, blobs first."""
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        for entry in index["manifests"]:
            repo, tag = entry["annotations"]["org.opencontainers.image.ref.name"].rsplit(":", 1)
            manifest = read_blob(layout, entry["digest"])
            doc = json.loads(manifest)
            for d in [doc["config"]] + doc["layers"]:
                data = read_blob(layout, d["digest"])
                self.push_blob(repo, d["digest"], len(data), data)
            self.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
                         headers={"Content-Type": entry["mediaType"]}, expect=(201,))
            # Read back by tag: the exact bytes the wrk runs will get.
            _, got = self.request("GET", f"/v2/{repo}/manifests/{tag}",
                                  headers={"Accept": MANIFEST})
            if "sha256:" + hashlib.sha256(got).hexdigest() != entry["digest"]:
                sys.exit(f"{self.name}: {repo}:{tag} read back with another digest")

    def check_blob(self, repo, digest, size):
        _, data = self.request("GET", f"/v2/{repo}/blobs/{digest}")
        if len(data) != size or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"{self.name}: blob {digest} read back wrong ({len(data)} bytes)")

    def download(self, repo, digest, size):
        """Streams a blob down in 1 MiB reads, checking its size and digest."""
        conn = self.conn()
        try:
            conn.request("GET", f"/v2/{repo}/blobs/{digest}")
            resp = conn.getresponse()
            if resp.status != 200:
                sys.exit(f"{self.name}: GET blob {digest}: {resp.status} {resp.reason}")
            h, n = hashlib.sha256(), 0
            while chunk := resp.read(MIB):
                h.update(chunk)
                n += len(chunk)
        finally:
            conn.close()
        if n != size or "sha256:" + h.hexdigest() != digest:
            sys.exit(f"{self.name}: blob {digest} downloaded wrong ({n} of {size} bytes)")


def read_blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return f.read()


def file_chunks(path):
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            yield chunk


# ---------------------------------------------------------------------------------------------
# Phases


def wrk(reg, path, connections, seconds, lua, body_size, headers=(), timeout_s=10):
    """Runs wrk; exits when it saw errors or responses shorter than body_size on average (wrk
    takes a redirect or an empty 200 for a success)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
           "-s", lua]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(f"http://{reg.host}{path}")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line[len("WRK_RESULT "):])
    if proc.returncode != 0 or result is None:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    errors = {k: result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                     "status_errors", "timeouts") if result[k]}
    if errors or result["requests"] == 0 or result["bytes"] < result["requests"] * body_size:
        sys.exit(f"{reg.name}: {' '.join(cmd)}: {result['requests']} requests, "
                 f"{result['bytes']:.0f} bytes (a body is {body_size}), errors {errors}\n"
                 f"{proc.stdout}")
    secs = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / secs
    result["mib_s"] = result["bytes"] / MIB / secs
    return result


def phase_manifest(reg, lua, manifest_size):
    path = f"/v2/{PLUGIN_REPO}/manifests/{PLUGIN_TAG}"
    hdr = [f"Accept: {MANIFEST}"]
    if WARMUP:
        wrk(reg, path, 64, WARMUP, lua, manifest_size, hdr)
    r = wrk(reg, path, 64, SECONDS, lua, manifest_size, hdr)
    print(f"  {reg.name:<9} manifest GET: {r['rps']:10.0f} req/s   p50 {r['p50_us'] / 1e3:7.2f} ms"
          f"   p99 {r['p99_us'] / 1e3:7.2f} ms", flush=True)
    return {"manifest_rps": r["rps"], "manifest_p50_ms": r["p50_us"] / 1e3,
            "manifest_p99_ms": r["p99_us"] / 1e3, "manifest_wrk": r}


def phase_blob(reg, lua, digest):
    path = f"/v2/{BLOB_REPO}/blobs/{digest}"
    if WARMUP:
        wrk(reg, path, 16, WARMUP, lua, 8 * MIB, timeout_s=30)
    r = wrk(reg, path, 16, SECONDS, lua, 8 * MIB, timeout_s=30)
    print(f"  {reg.name:<9} 8 MiB blob GET: {r['mib_s']:8.0f} MiB/s  ({r['requests']} requests, "
          f"p99 {r['p99_us'] / 1e3:.0f} ms)", flush=True)
    return {"blob_mib_s": r["mib_s"], "blob_p99_ms": r["p99_us"] / 1e3, "blob_wrk": r}


def phase_mirror(reg, work, layout):
    # Every image must be in place afterwards: the timed run is also a correctness check.
    t, client_rss = run([plugctl, "--no-progress", "--plain-http", "mirror", f"oci:{layout}",
                         "--to", f"{reg.host}/plugins", "--no-gateway-check"], work,
                        timeout=600)
    for i in range(IMAGES):
        reg.request("HEAD", f"/v2/plugins/p{i}/manifests/1.0", headers={"Accept": MANIFEST})
    print(f"  {reg.name:<9} mirror {IMAGES} images: {t:8.2f} s", flush=True)
    return {"mirror_s": t, "mirror_client_rss_mib": client_rss}


def phase_rss(reg):
    s = proc_status(reg.proc.pid)
    print(f"  {reg.name:<9} after 1-3: VmRSS {s['VmRSS']:7.1f} MiB   VmHWM {s['VmHWM']:7.1f} MiB   "
          f"RssAnon {s['RssAnon']:7.1f} MiB", flush=True)
    return {"rss_mib": s["VmRSS"], "hwm_mib": s["VmHWM"], "anon_mib": s["RssAnon"]}


def phase_big(reg, big_path, digest, size):
    out = {}
    for what in ("up", "down"):
        before = proc_status(reg.proc.pid)["VmRSS"]
        start = time.monotonic()
        with RssSampler(reg.proc.pid) as s:
            if what == "up":
                reg.push_blob(BIG_REPO, digest, size, file_chunks(big_path))
            else:
                reg.download(BIG_REPO, digest, size)
        secs = time.monotonic() - start
        out[f"big_{what}_rss_before_mib"] = before
        out[f"big_{what}_peak_delta_mib"] = s.peak - before
        out[f"big_{what}_mib_s"] = size / MIB / secs
    out["big_peak_delta_mib"] = max(out["big_up_peak_delta_mib"], out["big_down_peak_delta_mib"])
    print(f"  {reg.name:<9} {BIG_MIB} MiB blob: up {out['big_up_mib_s']:6.0f} MiB/s, peak RSS "
          f"+{out['big_up_peak_delta_mib']:.1f} MiB; down {out['big_down_mib_s']:6.0f} MiB/s, "
          f"peak RSS +{out['big_down_peak_delta_mib']:.1f} MiB", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Report

# (label, key, format, target on serve/registry or None, smallest registry figure a ratio is
# taken of: RSS deltas below 1 MiB are page-granularity noise)
ROWS = [
    ("manifest GET req/s (64 conn)", "manifest_rps", "{:.0f}", (">=", 5), 0),
    ("manifest GET p99 ms", "manifest_p99_ms", "{:.2f}", ("<", 1), 0),
    ("manifest GET p50 ms", "manifest_p50_ms", "{:.2f}", None, 0),
    ("8 MiB blob GET MiB/s (16 conn)", "blob_mib_s", "{:.0f}", (">=", 2), 0),
    ("mirror N images s", "mirror_s", "{:.2f}", ("<=", 0.5), 0),
    ("RSS after 1-3 MiB (VmRSS)", "rss_mib", "{:.1f}", ("<=", 0.25), 0),
    ("RSS high-water MiB (VmHWM)", "hwm_mib", "{:.1f}", ("<=", 0.25), 0),
    # Private memory only: shared libraries' pages (libcrypto, libstdc++…) count in VmRSS of a
    # dynamically linked server but are shared with every other process; Go links statically.
    ("RSS anonymous MiB (RssAnon)", "anon_mib", "{:.1f}", ("<=", 0.25), 0),
    ("big blob upload peak RSS +MiB", "big_up_peak_delta_mib", "{:.1f}", None, 1),
    ("big blob download peak RSS +MiB", "big_down_peak_delta_mib", "{:.1f}", None, 1),
    ("big blob peak RSS +MiB", "big_peak_delta_mib", "{:.1f}", None, 1),
]


def report(results, names):
    ratios = {}
    print(f"\n{'figure':<34} {names[0]:>10} {names[-1] if len(names) > 1 else '':>10} "
          f"{'ratio':>7} {'target':>7}  met")
    for label, key, fmt, target, min_base in ROWS:
        label = label.replace("N images", f"{IMAGES} images").replace("big blob",
                                                                          f"{BIG_MIB} MiB")
        base = results[names[0]][key]
        line = f"{label:<34} {fmt.format(base):>10}"
        if len(names) > 1:
            cand = results[names[1]][key]
            ratio = cand / base if base > 0 and base >= min_base else None
            ratios[key] = ratio
            line += f" {fmt.format(cand):>10} {ratio:7.2f}" if ratio is not None else \
                f" {fmt.format(cand):>10} {'-':>7}"
            if target:
                op, value = target
                met = ratio is not None and {">=": ratio >= value, "<": ratio < value,
                                             "<=": ratio <= value}[op]
                line += f" {op + format(value, 'g'):>7}  {'yes' if met else 'NO'}"
        print(line)
    print("ratio = serve / docker-registry" if len(names) > 1 else "(--baseline-only)")
    return ratios


def main():
    procs = []
    work = args.workdir or tempfile.mkdtemp(prefix="plugctl-serve-bench-")
    os.makedirs(work, exist_ok=True)
    # SIGTERM unwinds like Ctrl-C, so the finally below stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        rng = random.Random(1)
        seed = os.path.join(work, "seed")
        write_layout(seed, [(f"{PLUGIN_REPO}:{PLUGIN_TAG}", rng.randbytes(256 << 10)),
                            (f"{BLOB_REPO}:{BLOB_TAG}", rng.randbytes(8 * MIB))])
        with open(os.path.join(seed, "index.json")) as f:
            seeded = json.load(f)["manifests"]
        manifest_size = seeded[0]["size"]
        blob_digest = json.loads(read_blob(seed, seeded[1]["digest"]))["layers"][0]["digest"]
        images = os.path.join(work, "images")
        write_layout(images, [(f"bench.example.com/plugins/p{i}:1.0",
                               rng.randbytes(rng.randint(200 << 10, 600 << 10)))
                              for i in range(IMAGES)])
        big = os.path.join(work, "big.bin")
        print(f"writing a {BIG_MIB} MiB random file to {work}", flush=True)
        with open(big, "wb") as f:
            subprocess.run(["head", "-c", str(BIG_MIB * MIB), "/dev/urandom"], stdout=f,
                           check=True, timeout=600)
        h = hashlib.sha256()
        for chunk in file_chunks(big):
            h.update(chunk)
        big_digest = "sha256:" + h.hexdigest()
        lua = os.path.join(work, "wrk.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)

        reg_proc, reg_host = start_registry(work, "registry", cache=True)
        procs.append(reg_proc)
        servers = [Registry("registry", reg_host, reg_proc)]
        if not args.baseline_only:
            proc, host = start_candidate(work, procs)
            servers.append(Registry("serve", host, proc))
        for s in servers:
            print(f"{s.name}: http://{s.host} (pid {s.proc.pid})", flush=True)
            s.push_layout(seed)
            s.check_blob(BLOB_REPO, blob_digest, 8 * MIB)

        results = {s.name: {} for s in servers}
        print(f"\n1. manifest GET by tag, wrk -t2 -c64 -d{SECONDS}s", flush=True)
        for s in servers:
            results[s.name].update(phase_manifest(s, lua, manifest_size))
        print(f"2. 8 MiB blob GET, wrk -t2 -c16 -d{SECONDS}s", flush=True)
        for s in servers:
            results[s.name].update(phase_blob(s, lua, blob_digest))
        print(f"3. plugctl mirror of {IMAGES} images", flush=True)
        for s in servers:
            results[s.name].update(phase_mirror(s, work, images))
        print("4. server memory", flush=True)
        for s in servers:
            results[s.name].update(phase_rss(s))
        print(f"5. {BIG_MIB} MiB blob up and down", flush=True)
        for s in servers:
            results[s.name].update(phase_big(s, big, big_digest, BIG_MIB * MIB))
        for s in servers:
            if s.proc.poll() is not None:
                sys.exit(f"{s.name} exited ({s.proc.returncode}) during the run")

        names = [s.name for s in servers]
        ratios = report(results, names)
        if args.json:
            doc = {"config": {"seconds": SECONDS, "images": IMAGES, "big_mib": BIG_MIB,
                              "quick": args.quick, "baseline_only": args.baseline_only,
                              "server_cmd": None if args.baseline_only else args.server_cmd,
                              "plugctl": plugctl, "nproc": os.cpu_count(),
                              "loadavg_end": os.getloadavg(), "machine": platform.machine(),
                              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                   "servers": results, "ratios": ratios,
                   "targets": {key: {"op": t[0], "value": t[1]}
                               for _, key, _, t, _ in ROWS if t}}
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    except BaseException:
        # The server's own words on what went wrong (serve logs to stderr).
        log = os.path.join(work, "serve.log")
        if not args.baseline_only and os.path.exists(log) and log_tail(log):
            print(f"--- last lines of {log}:\n{log_tail(log)}---", file=sys.stderr)
        raise
    finally:
        for proc in procs:
            stop(proc)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted")
