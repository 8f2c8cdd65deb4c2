#!/usr/bin/env python3
"""A small registry that misbehaves on purpose, for plugctl's fault tests.

Serves one repository, "fault/img", holding one OCI image (config "{}" and one
random layer), with Bearer token auth (user "u", password "p") issued by its
own /token endpoint, and tags listed two per page with Link headers.

--mode picks the fault:
  none           behave
  cut            the first blob GET sends half the bytes, then drops the connection
  429            the first blob GET answers 429 with Retry-After: 1
  500            the first two blob GETs answer 500
  corrupt        blob GETs return the right length with one byte flipped
  redirect       blob GETs redirect (307) to a second listener on another origin
  token-garbage  the token endpoint answers HTML instead of JSON
  link-offsite   the first tags page links to the other origin for page two

Writes its port to --port-file once listening; records what the other origin
saw (did an Authorization header arrive?) in --stats as JSON.
"""
import argparse
import base64
import hashlib
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--mode", default="none")
ap.add_argument("--port-file", required=True)
ap.add_argument("--stats", required=True)
ap.add_argument("--blob-size", type=int, default=2 << 20)
args = ap.parse_args()

rng = random.Random(42)
BLOB = bytes(rng.getrandbits(8) for _ in range(args.blob_size))
CONFIG = b"{}"


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.unknown.config.v1+json",
               "digest": digest(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest(BLOB), "size": len(BLOB),
                "annotations": {"org.opencontainers.image.title": "blob.bin"}}],
}, separators=(",", ":")).encode()
BLOBS = {digest(BLOB): BLOB, digest(CONFIG): CONFIG}
TAGS = ["t1", "t2", "t3", "t4", "t5"]
TOKEN = "good-token"

lock = threading.Lock()
stats = {"blob_gets": 0, "offsite_requests": 0, "offsite_auth": [], "range_requests": 0,
         "token_requests": 0}
main_port = [0]
other_port = [0]


def save_stats():
    with open(args.stats, "w") as f:
        json.dump(stats, f)


class Main(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=None, ctype="application/json"):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        realm = "http://127.0.0.1:%d/token" % main_port[0]
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"auth required"}]}',
                  {"WWW-Authenticate": 'Bearer realm="%s",service="fault"' % realm})
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/token":
            with lock:
                stats["token_requests"] += 1
                save_stats()
            if args.mode == "token-garbage":
                return self.send(200, b"<html>not a token</html>", ctype="text/html")
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
                return self.send(401, b'{"details":"bad credentials"}')
            return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        if not self.authorized():
            return
        if path == "/v2/":
            return self.send(200, b"{}")
        if path.startswith("/v2/fault/img/manifests/"):
            ref = path.rsplit("/", 1)[1]
            if ref not in TAGS and ref != digest(MANIFEST):
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            return self.send(200, MANIFEST, {"Docker-Content-Digest": digest(MANIFEST)},
                             ctype="application/vnd.oci.image.manifest.v1+json")
        if path == "/v2/fault/img/tags/list":
            page = int(self.path.split("page=")[1]) if "page=" in self.path else 0
            tags = TAGS[page * 2:page * 2 + 2]
            headers = {}
            if page * 2 + 2 < len(TAGS):
                if args.mode == "link-offsite" and page == 0:
                    nxt = "http://localhost:%d/v2/fault/img/tags/list?page=1" % other_port[0]
                else:
                    nxt = "/v2/fault/img/tags/list?page=%d" % (page + 1)
                headers["Link"] = '<%s>; rel="next"' % nxt
            return self.send(200, json.dumps({"name": "fault/img", "tags": tags}).encode(), headers)
        if path.startswith("/v2/fault/img/blobs/"):
            d = path.rsplit("/", 1)[1]
            if d not in BLOBS:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            data = BLOBS[d]
            with lock:
                stats["blob_gets"] += 1 if self.command == "GET" and d == digest(BLOB) else 0
                n = stats["blob_gets"]
                save_stats()
            if self.command == "GET" and d == digest(BLOB):
                if args.mode == "429" and n == 1:
                    return self.send(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}',
                                     {"Retry-After": "1"})
                if args.mode == "500" and n <= 2:
                    return self.send(500, b'{"errors":[{"code":"UNKNOWN"}]}')
                if args.mode == "corrupt":
                    data = bytearray(data)
                    data[len(data) // 2] ^= 0xFF
                    data = bytes(data)
                if args.mode == "redirect":
                    loc = "http://localhost:%d/storage/%s?X-Amz-Signature=secret" % (other_port[0], d)
                    return self.send(307, b"", {"Location": loc})
                rng_header = self.headers.get("Range")
                if rng_header:
                    with lock:
                        stats["range_requests"] += 1
                        save_stats()
                    start = int(rng_header.split("=")[1].split("-")[0])
                    part = data[start:]
                    self.send_response(206)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(part)))
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
                    self.end_headers()
                    self.wfile.write(part)
                    return
                if args.mode == "cut" and n == 1:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
            return self.send(200, data, {"Docker-Content-Digest": d}, ctype="application/octet-stream")
        self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')


class Offsite(BaseHTTPRequestHandler):
    """Another origin: object storage for redirects, a foreign pagination host."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        with lock:
            stats["offsite_requests"] += 1
            stats["offsite_auth"].append(self.headers.get("Authorization") or "")
            save_stats()
        path = self.path.split("?")[0]
        if path.startswith("/storage/"):
            body = BLOBS.get(path.rsplit("/", 1)[1], b"")
        else:
            body = json.dumps({"name": "fault/img", "tags": ["offsite"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


main = ThreadingHTTPServer(("127.0.0.1", 0), Main)
other = ThreadingHTTPServer(("127.0.0.1", 0), Offsite)
main_port[0] = main.server_address[1]
other_port[0] = other.server_address[1]
save_stats()
threading.Thread(target=other.serve_forever, daemon=True).start()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(main_port[0]))
import os  # noqa: E402
os.rename(args.port_file + ".tmp", args.port_file)
main.serve_forever()
