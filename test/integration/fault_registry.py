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
  deep-token     the token endpoint answers JSON nested 100000 levels deep
  deep-manifest  the manifest (digest right, well under 4 MiB) nests 100000 levels deep
  link-offsite   the first tags page links to the other origin for page two
  slow-body      manifest GETs send their headers, then the body one byte every half second
  endless-pages  every tags/list and _catalog page (4 MiB, mostly whitespace) links to yet another
  chunk-416      uploads to "fault/up": the second PATCH of an upload keeps only the first half
                 of its chunk and is answered 416 (a write cut short); the client must ask
                 where the upload stands (GET) and resend the rest

Writes its port to --port-file once listening; records what the other origin
saw (did an Authorization header arrive?) in --stats as JSON.
"""
import argparse
import base64
import hashlib
import json
import random
import socket
import time
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
if args.mode == "deep-manifest":
    MANIFEST = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                b'"deep":' + b"[" * 100000 + b"]" * 100000 + b"}")
DEEP_JSON = b'{"token":' + b"[" * 100000 + b"]" * 100000 + b"}"
BLOBS = {digest(BLOB): BLOB, digest(CONFIG): CONFIG}
_NAMES = ["t%d" % i for i in range(100)]
ENDLESS_PAGE = json.dumps({"name": "fault/img", "tags": _NAMES, "repositories": _NAMES}).encode()
ENDLESS_PAGE += b" " * ((4 << 20) - len(ENDLESS_PAGE))  # whitespace: cheap to parse, 4 MiB
TAGS = ["t1", "t2", "t3", "t4", "t5"]
TOKEN = "good-token"

lock = threading.Lock()
stats = {"blob_gets": 0, "offsite_requests": 0, "offsite_auth": [], "range_requests": 0,
         "token_requests": 0, "status_416": 0, "upload_status_gets": 0, "uploaded": []}
UPLOADS = {}  # upload id -> {"data": bytearray, "patches": int}
UP_MANIFESTS = {}
UP_BLOBS = {}  # fault/up starts empty, so every blob is uploaded
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

    # ---- uploads to fault/up (distribution-spec push) ----
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def upload_id(self, path):
        return path.rsplit("/", 1)[1]

    def do_POST(self):
        path = self.path.split("?")[0]
        if not self.authorized():
            return
        if path != "/v2/fault/up/blobs/uploads/":
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        self.body()
        with lock:
            uid = "u%d" % (len(UPLOADS) + 1)
            UPLOADS[uid] = {"data": bytearray(), "patches": 0}
        return self.send(202, b"", {"Location": "/v2/fault/up/blobs/uploads/" + uid,
                                    "Range": "0-0"})

    def do_PATCH(self):
        path = self.path.split("?")[0]
        if not self.authorized():
            return
        data = self.body()
        with lock:
            up = UPLOADS.get(self.upload_id(path))
            if up is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
            up["patches"] += 1
            start = int((self.headers.get("Content-Range") or "0-0").split("-")[0])
            if args.mode == "chunk-416" and up["patches"] == 2 and start == len(up["data"]):
                # Only the first half of this chunk made it (a write cut short): 416, and the
                # client must find out where the upload stands.
                up["data"] += data[:len(data) // 2]
                stats["status_416"] += 1
                save_stats()
                return self.send(416, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}',
                                 {"Range": "0-%d" % (len(up["data"]) - 1)})
            if start != len(up["data"]):
                stats["status_416"] += 1
                save_stats()
                return self.send(416, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}',
                                 {"Range": "0-%d" % (len(up["data"]) - 1)})
            up["data"] += data
            end = len(up["data"]) - 1
        return self.send(202, b"", {"Location": path, "Range": "0-%d" % end})

    def do_PUT(self):
        path = self.path.split("?")[0]
        if not self.authorized():
            return
        data = self.body()
        if path.startswith("/v2/fault/up/manifests/"):
            with lock:
                UP_MANIFESTS[path.rsplit("/", 1)[1]] = data
                UP_MANIFESTS[digest(data)] = data
            return self.send(201, b"", {"Docker-Content-Digest": digest(data)})
        with lock:
            up = UPLOADS.pop(self.upload_id(path), None)
        if up is None:
            return self.send(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
        want = self.path.split("digest=")[1].replace("%3A", ":") if "digest=" in self.path else ""
        blob = bytes(up["data"] + data)
        if digest(blob) != want:
            return self.send(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
        with lock:
            UP_BLOBS[want] = blob
            stats["uploaded"].append(want)
            save_stats()
        return self.send(201, b"", {"Docker-Content-Digest": want,
                                    "Location": "/v2/fault/up/blobs/" + want})

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/token":
            with lock:
                stats["token_requests"] += 1
                save_stats()
            if args.mode == "token-garbage":
                return self.send(200, b"<html>not a token</html>", ctype="text/html")
            if args.mode == "deep-token":
                return self.send(200, DEEP_JSON)
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
                return self.send(401, b'{"details":"bad credentials"}')
            return self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        if not self.authorized():
            return
        if path == "/v2/":
            return self.send(200, b"{}")
        if path.startswith("/v2/fault/up/blobs/uploads/"):
            with lock:
                up = UPLOADS.get(self.upload_id(path))
                stats["upload_status_gets"] += 1
                save_stats()
            if up is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
            return self.send(204, None, {"Location": path,
                                         "Range": "0-%d" % (len(up["data"]) - 1)})
        if path.startswith("/v2/fault/up/blobs/"):
            d = path.rsplit("/", 1)[1]
            if d not in UP_BLOBS:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            return self.send(200, UP_BLOBS[d], {"Docker-Content-Digest": d},
                             ctype="application/octet-stream")
        if path.startswith("/v2/fault/up/manifests/"):
            m = UP_MANIFESTS.get(path.rsplit("/", 1)[1])
            if m is None:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return self.send(200, m, {"Docker-Content-Digest": digest(m)},
                             ctype="application/vnd.oci.image.manifest.v1+json")
        if path.startswith("/v2/fault/img/manifests/"):
            ref = path.rsplit("/", 1)[1]
            if ref not in TAGS and ref != digest(MANIFEST):
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            if args.mode == "slow-body" and self.command == "GET":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(len(MANIFEST)))
                self.end_headers()
                for i in range(len(MANIFEST)):
                    self.wfile.write(MANIFEST[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
                return
            return self.send(200, MANIFEST, {"Docker-Content-Digest": digest(MANIFEST)},
                             ctype="application/vnd.oci.image.manifest.v1+json")
        if args.mode == "endless-pages" and path in ("/v2/fault/img/tags/list", "/v2/_catalog"):
            with lock:
                stats["list_pages"] = stats.get("list_pages", 0) + 1
                n = stats["list_pages"]
                save_stats()
            return self.send(200, ENDLESS_PAGE, {"Link": '<%s?page=%d>; rel="next"' % (path, n)})
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
                    # Let the client read the half first: closing with data still unread on
                    # either side can turn the FIN into a reset that discards it, and the test
                    # is about resuming from the middle.
                    time.sleep(0.3)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_WR)
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
