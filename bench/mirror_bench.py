#!/usr/bin/env python3
"""Mirroring many plugins: `plugctl mirror` versus skopeo, registry to registry and into a bundle.

Starts two Debian docker-registry instances on 127.0.0.1 (the internet side and the private
side), fills the first with N plugin-sized images (1-10 MiB random layers), then times:

  registry -> registry   plugctl mirror LIST --to B/plugctl
                         vs a loop of `skopeo copy` (one process per image) and `skopeo sync`
  rerun (nothing to do)  the same again
  registry -> bundle     plugctl mirror LIST --to oci-archive:bundle.tar
                         vs a `skopeo copy` loop into one OCI layout, then `tar` (one file to carry)
  bundle -> registry     plugctl mirror oci-archive:bundle.tar --to B/loaded
                         vs a `skopeo copy` loop from the OCI layout

Prints wall time and peak RSS (GNU time, per process; max over a loop) with plugctl/skopeo ratios
(< 1: plugctl wins); skopeo's column is its faster way (loop or sync) where both ran.

usage: bench/mirror_bench.py [--plugctl build/release/plugctl] [--images 50] [--workdir DIR]
"""
import argparse
import os
import random
import shutil
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--plugctl", default="build/release/plugctl")
ap.add_argument("--images", type=int, default=50)
ap.add_argument("--workdir")
args = ap.parse_args()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import measure, require, run, start_registry, write_layout  # noqa: E402

plugctl = require(args.plugctl, ("skopeo", "docker-registry", "/usr/bin/time", "tar"))

work = args.workdir or tempfile.mkdtemp(prefix="plugctl-mirror-bench-")
os.makedirs(work, exist_ok=True)


def row(name, plugctl_cmds, *skopeo_ways):
    p_time, p_rss = measure(plugctl_cmds, work)
    best = None
    for label, cmds in skopeo_ways:
        # Each way keeps its own HOME: skopeo's blob-info cache would otherwise let a later way
        # mount what an earlier one uploaded instead of transferring it.
        home = os.path.join(work, "home-" + label.replace(" ", "-"))
        os.makedirs(home, exist_ok=True)
        t, m = measure(cmds, work, dict(os.environ, HOME=home))
        if best is None or t < best[1]:
            best = (label, t, m)
    label, s_time, s_rss = best
    print(f"{name:<24} {p_time:8.2f}s {s_time:8.2f}s {p_time / s_time:7.2f}   "
          f"{p_rss:7.1f} {s_rss:7.1f} {p_rss / s_rss:7.2f}   {label}", flush=True)


def make_bundle(layout, count):
    """An OCI layout of `count` images named bench.example.com/plugins/pN:1.0 (random layers)."""
    rng = random.Random(1)
    write_layout(layout, [(f"bench.example.com/plugins/p{i}:1.0",
                           rng.randbytes(rng.randint(1 << 20, 10 << 20))) for i in range(count)])


registries = []
try:
    a_proc, a = start_registry(work, "internet", delete=True)
    registries.append(a_proc)
    b_proc, b = start_registry(work, "private", delete=True)
    registries.append(b_proc)
    seed = os.path.join(work, "seed")
    print(f"writing {args.images} images of 1-10 MiB and pushing them to {a}", flush=True)
    make_bundle(seed, args.images)
    run([plugctl, "--no-progress", "mirror", f"oci:{seed}", "--to", f"{a}/plugins",
         "--no-gateway-check"], work)
    refs = [f"{a}/plugins/p{i}:1.0" for i in range(args.images)]
    with open(os.path.join(work, "list.txt"), "w") as f:
        f.write("\n".join(refs) + "\n")
    with open(os.path.join(work, "sync.yaml"), "w") as f:
        f.write(f"{a}:\n  tls-verify: false\n  images:\n")
        for i in range(args.images):
            f.write(f"    plugins/p{i}: ['1.0']\n")

    sk = ["skopeo", "--insecure-policy"]
    # skopeo does no gateway check; neither does plugctl here, so both move the same bytes.
    pm = [plugctl, "--no-progress", "mirror", "--no-gateway-check"]
    lst = os.path.join(work, "list.txt")
    print(f"\n{'row':<24} {'plugctl':>9} {'skopeo':>9} {'ratio':>7}   "
          f"{'MiB':>7} {'MiB':>7} {'ratio':>7}   skopeo way")
    # The same commands twice: the second run finds everything in place.
    to_registry = [pm + [lst, "--to", f"{b}/plugctl"]]
    copy_loop = ("copy loop", [sk + ["copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                                     f"docker://{a}/plugins/p{i}:1.0",
                                     f"docker://{b}/skopeo/p{i}:1.0"]
                               for i in range(args.images)])
    sync = ("sync", [sk + ["sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false",
                           os.path.join(work, "sync.yaml"), f"{b}/skopeo-sync"]])
    row(f"registry->registry {args.images}", to_registry, copy_loop, sync)
    row("rerun, nothing to do", to_registry, copy_loop, sync)
    bundle = os.path.join(work, "bundle.tar")
    sk_layout = os.path.join(work, "skopeo-layout")
    row(f"registry->bundle {args.images}",
        [pm + [lst, "--to", f"oci-archive:{bundle}"]],
        ("copy loop + tar",
         [sk + ["copy", "--src-tls-verify=false", f"docker://{r}", f"oci:{sk_layout}:{r}"]
          for r in refs] + [["tar", "-cf", os.path.join(work, "skopeo-bundle.tar"), "-C",
                             sk_layout, "."]]))
    row(f"bundle->registry {args.images}",
        [pm + [f"oci-archive:{bundle}", "--to", f"{b}/loaded"]],
        ("copy loop", [sk + ["copy", "--dest-tls-verify=false", f"oci:{sk_layout}:{r}",
                             f"docker://{b}/skopeo-loaded/p{i}:1.0"]
                       for i, r in enumerate(refs)]))
finally:
    for proc in registries:
        proc.terminate()
        proc.wait(timeout=10)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
