#!/usr/bin/env python3
"""Rewrites an archive written by plugctl into a hostile one, for hostile_test.cc.

  bloat IN OUT MIB    OUT (gzip) = a MIB MiB member of zeros nothing references, then IN's members
  links IN OUT N      OUT = IN without its OCI layout (a legacy docker save), + N hard links to the
                      first layer; manifest.json names one of them
  oversize IN OUT HEX OUT = IN with blob HEX one byte longer than its descriptor says
"""
import gzip
import io
import json
import sys
import tarfile


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def members(path):
    with tarfile.open(path) as tin:
        for m in tin.getmembers():
            yield m, (tin.extractfile(m).read() if m.isfile() else None)


def add(tout, m, data):
    if data is None:
        tout.addfile(m)
    else:
        m.size = len(data)
        tout.addfile(m, io.BytesIO(data))


def main():
    cmd, src, dst, arg = sys.argv[1:5]
    if cmd == "bloat":
        size = int(arg) << 20
        with gzip.open(dst, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w|") as tout:
            junk = tarfile.TarInfo("junk/zeros.bin")
            junk.size = size
            tout.addfile(junk, io.BufferedReader(Zeros(size), 1 << 20))
            for m, data in members(src):
                add(tout, m, data)
    elif cmd == "links":
        with tarfile.open(dst, "w") as tout:
            layer = None
            for m, data in members(src):
                if m.name in ("oci-layout", "index.json"):
                    continue
                if m.name == "manifest.json":
                    doc = json.loads(data)
                    layer = doc[0]["Layers"][0]
                    doc[0]["Layers"][0] = "links/%d/layer.tar" % (int(arg) // 2)
                    data = json.dumps(doc).encode()
                add(tout, m, data)
            for i in range(int(arg)):
                link = tarfile.TarInfo("links/%d/layer.tar" % i)
                link.type = tarfile.LNKTYPE
                link.linkname = layer
                tout.addfile(link)
    elif cmd == "oversize":
        with tarfile.open(dst, "w") as tout:
            for m, data in members(src):
                if m.isfile() and m.name.endswith(arg):
                    data += b"x"
                add(tout, m, data)


main()
