#!/usr/bin/env python3
"""Registry push/pull: plugctl versus skopeo against one local docker-registry.

Starts Debian's docker-registry on 127.0.0.1 (temporary storage), writes a
source OCI layout with N plugin-sized images (1-10 MiB random layers) and one
image with a large blob, then for each row runs the same transfers with both
tools, one process per image as a user would, and prints wall time and peak
RSS (per process, from wait4) with plugctl/skopeo ratios (< 1: plugctl wins).

usage: bench/registry_bench.py [--plugctl build/release/plugctl] [--images 50]
                               [--big-mib 500] [--workdir DIR]
"""
import argparse
import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import (  # noqa: E402
    measure, require, start_registry, write_big_blob, write_layout)

ap = argparse.ArgumentParser()
ap.add_argument("--plugctl", default="build/release/plugctl")
ap.add_argument("--images", type=int, default=50)
ap.add_argument("--big-mib", type=int, default=500)
ap.add_argument("--workdir")
args = ap.parse_args()

plugctl = require(args.plugctl, ("skopeo", "docker-registry", "/usr/bin/time"))

work = args.workdir or tempfile.mkdtemp(prefix="plugctl-bench-")
os.makedirs(work, exist_ok=True)


def make_layout(layout, count, big_mib):
    os.makedirs(layout, exist_ok=True)
    rng = random.Random(1)
    images = [(f"p{i}", rng.randbytes(rng.randint(1 << 20, 10 << 20))) for i in range(count)]
    if big_mib > 0:
        images.append(("big", write_big_blob(layout, big_mib, 2)))
    write_layout(layout, images)


def row(name, plugctl_cmds, skopeo_cmds):
    p_time, p_rss = measure(plugctl_cmds, work)
    s_time, s_rss = measure(skopeo_cmds, work)
    print(f"{name:<34} {p_time:8.2f}s {s_time:8.2f}s {p_time / s_time:7.2f}   "
          f"{p_rss:8.1f} {s_rss:8.1f} {p_rss / s_rss:7.2f}", flush=True)


registry, host = start_registry(work, "registry")
try:
    src = os.path.join(work, "src")
    print(f"writing {args.images} images of 1-10 MiB and one of {args.big_mib} MiB to {src}",
          flush=True)
    make_layout(src, args.images, args.big_mib)

    sk = ["skopeo", "--insecure-policy"]
    print(f"\n{'row':<34} {'plugctl':>9} {'skopeo':>9} {'ratio':>7}   "
          f"{'MiB':>8} {'MiB':>8} {'ratio':>7}")
    tags = [f"p{i}" for i in range(args.images)]
    row(f"push {args.images} images",
        [[plugctl, "--no-progress", "copy", f"oci:{src}:{t}", f"{host}/plugctl/{t}:1"] for t in tags],
        [sk + ["copy", "--dest-tls-verify=false", f"oci:{src}:{t}", f"docker://{host}/skopeo/{t}:1"]
         for t in tags])
    row(f"pull {args.images} images",
        [[plugctl, "--no-progress", "copy", f"{host}/plugctl/{t}:1", f"oci:{work}/pull-p:{t}"]
         for t in tags],
        [sk + ["copy", "--src-tls-verify=false", f"docker://{host}/skopeo/{t}:1",
               f"oci:{work}/pull-s:{t}"] for t in tags])
    if args.big_mib > 0:
        row(f"push one {args.big_mib} MiB blob",
            [[plugctl, "--no-progress", "copy", f"oci:{src}:big", f"{host}/plugctl/big:1"]],
            [sk + ["copy", "--dest-tls-verify=false", f"oci:{src}:big", f"docker://{host}/skopeo/big:1"]])
        row(f"pull one {args.big_mib} MiB blob",
            [[plugctl, "--no-progress", "copy", f"{host}/plugctl/big:1", f"oci:{work}/big-p:big"]],
            [sk + ["copy", "--src-tls-verify=false", f"docker://{host}/skopeo/big:1",
                   f"oci:{work}/big-s:big"]])
finally:
    registry.terminate()
    registry.wait(timeout=10)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
