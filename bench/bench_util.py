"""What the benchmarks share: their prerequisites, OCI layouts of plugin-shaped test images
(written independently of plugctl), free ports, local docker-registries, and timed runs."""
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def require(plugctl, tools):
    """Returns the absolute path of the plugctl binary `plugctl`; exits, saying how to get it,
    when it or one of `tools` is missing."""
    plugctl = os.path.abspath(plugctl)
    if not os.path.exists(plugctl):
        sys.exit(f"no plugctl at {plugctl}: build it with `cmake --preset release && "
                 "cmake --build --preset release`")
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not installed: run scripts/setup.sh")
    return plugctl


def write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def write_big_blob(layout, mib, seed):
    """Streams a large random blob to disk without holding it in memory."""
    rng = random.Random(seed)
    tmp = os.path.join(layout, "big.tmp")
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        for _ in range(mib):
            chunk = rng.randbytes(1 << 20)
            h.update(chunk)
            f.write(chunk)
    digest = h.hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.replace(tmp, path)
    return {"digest": "sha256:" + digest, "size": mib << 20}


def write_layout(layout, images):
    """images: [(ref name, layer descriptor from write_blob/write_big_blob, or layer bytes)].

    Each image: an ORAS-style manifest (unknown config "{}") with one tar+gzip layer titled
    plugin.tar.gz, tagged with its ref name in index.json.
    """
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    config = write_blob(layout, b"{}")
    entries = []
    for tag, layer in images:
        if isinstance(layer, (bytes, bytearray)):
            layer = write_blob(layout, bytes(layer))
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.unknown.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer,
                        "annotations": {"org.opencontainers.image.title": "plugin.tar.gz"}}],
        }, separators=(",", ":")).encode()
        m = write_blob(layout, manifest)
        entries.append({"mediaType": MANIFEST, **m,
                        "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": entries}, f)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_registry(work, name, delete=False, cache=False):
    """Starts a docker-registry on a free port, its configuration in work/<name>.yml and its
    storage in work/<name> (`delete`: blob deletion enabled; `cache`: the in-memory blob
    descriptor cache of Debian's default configuration); returns (process, "127.0.0.1:PORT")
    once it accepts connections, or exits."""
    port = free_port()
    host = f"127.0.0.1:{port}"
    config_path = os.path.join(work, f"{name}.yml")
    with open(config_path, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                f"storage:\n  filesystem:\n    rootdirectory: {os.path.join(work, name)}\n"
                + ("  cache:\n    blobdescriptor: inmemory\n" if cache else "")
                + ("  delete:\n    enabled: true\n" if delete else "")
                + f"http:\n  addr: {host}\n  secret: bench\n")
    proc = subprocess.Popen(["docker-registry", "serve", config_path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, host
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"docker-registry {name} did not start")


def run(cmd, work, env=None, timeout=None):
    """Runs cmd (killed after `timeout` seconds, if given); returns (seconds, peak RSS in MiB).

    Peak RSS comes from GNU time: a child's ru_maxrss keeps its parent's watermark from before
    exec, so measuring from this (large) Python process would report Python's memory, not the
    tool's.
    """
    rss_file = os.path.join(work, "rss")
    start = time.monotonic()
    # With a timeout, cmd runs in its own process group so that the kill reaches it, not only
    # GNU time; this process then kills the group on any exception (Ctrl-C included).
    proc = subprocess.Popen(["/usr/bin/time", "-o", rss_file, "-f", "%M"] + cmd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=timeout is not None)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except BaseException as e:
        if timeout is None:
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            sys.exit(f"timed out after {timeout} s: {' '.join(cmd)}")
        raise
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{stderr.decode(errors='replace')}")
    with open(rss_file) as f:
        return elapsed, int(f.read().split()[-1]) / 1024.0


def measure(cmds, work, env=None):
    """Runs cmds one after the other; returns (total seconds, the largest peak RSS in MiB)."""
    total = peak = 0.0
    for cmd in cmds:
        t, m = run(cmd, work, env)
        total += t
        peak = max(peak, m)
    return total, peak
