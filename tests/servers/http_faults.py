#!/usr/bin/env python3
# http_faults.py: a local HTTP peer that injects scripted faults for the
# tests of vrun's HTTP service. Binds 127.0.0.1 port 0, writes the port to
# --port-file, appends one JSON line per request to --log.
# SPDX-License-Identifier: MIT
#
# The path says what to do; <id> keeps counters apart; the first <n>
# attempts of a path misbehave, later ones get 200:
#   /ok                          200 "hello\n"
#   /status/<code>               always <code>
#   /fail/<code>/<n>/<id>        <code> n times (?retry_after=S adds it)
#   /drop/<n>/<id>               response cut mid-body n times
#   /dropup/<n>/<id>             connection closed mid-upload n times
#   /slow/<n>/<id>?delay=S       sleep S before answering, n times
#   /ratelimit/<kind>/<n>/<id>?wait=S
#        kind 429ra: 429 + Retry-After: S
#             403reset: 403 + x-ratelimit-remaining: 0, reset = now+S
#             429reset: same with 429
#             403plain: 403 without rate-limit headers (not a rate limit)
#   /upload                      read the body (Content-Length only),
#                                answer {"length":..,"sha256":..}
#   /sink                        read and discard the body, 204
#   /download?size=N             N bytes of a repeating pattern
#   /trickle?size=N              N bytes, 1 KiB every 0.1 s
#   /redirect?to=PATH            302 to PATH, with a body of its own
#   /spent?wait=S                200, but x-ratelimit-remaining: 0 until
#                                now+S
# Each log line: method, path, attempt, headers, body_len, sha256, time.
import argparse
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

lock = threading.Lock()
counts = {}
log_path = None
CHUNK = 1 << 20


def count(path):
    with lock:
        counts[path] = counts.get(path, 0) + 1
        return counts[path]


def record(entry):
    if not log_path:
        return
    with lock:
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self, hash_it=True, stop_at=None):
        """Read the request body; returns (length, sha256 hex, complete)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return (-1, "chunked", False)
        total = int(self.headers.get("Content-Length", "0") or 0)
        h = hashlib.sha256() if hash_it else None
        got = 0
        while got < total:
            want = min(CHUNK, total - got)
            if stop_at is not None and got + want > stop_at:
                want = stop_at - got
                if want <= 0:
                    return (got, "", False)
            data = self.rfile.read(want)
            if not data:
                break
            got += len(data)
            if h:
                h.update(data)
        return (got, h.hexdigest() if h else "", got == total)

    def reply(self, code, body=b"", headers=None, close=False):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def handle_any(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        parts = [p for p in u.path.split("/") if p]
        attempt = count(u.path)
        entry = {"method": self.command, "path": u.path, "attempt": attempt,
                 "headers": dict(self.headers.items()), "time": time.time()}
        kind = parts[0] if parts else ""

        if kind == "dropup":
            n = int(parts[1])
            if attempt <= n:
                total = int(self.headers.get("Content-Length", "0") or 0)
                got, _, _ = self.read_body(False, stop_at=total // 2)
                entry.update(body_len=got, sha256="", dropped=True)
                record(entry)
                self.close_connection = True
                self.connection.shutdown(2)
                return
        if kind == "sink":
            got, _, ok = self.read_body(False)
            entry.update(body_len=got, sha256="")
            record(entry)
            self.reply(204 if ok else 400)
            return
        got, digest, ok = self.read_body(True)
        entry.update(body_len=got, sha256=digest)
        record(entry)
        if got < 0:
            self.reply(411, b"chunked bodies are refused\n", close=True)
            return

        if kind == "ok":
            self.reply(200, b"hello\n", {"Content-Type": "text/plain",
                                         "X-Test": "yes"})
        elif kind == "status":
            self.reply(int(parts[1]), b"status %s\n" % parts[1].encode())
        elif kind == "fail":
            code, n = int(parts[1]), int(parts[2])
            if attempt <= n:
                h = {}
                if "retry_after" in q:
                    h["Retry-After"] = q["retry_after"]
                self.reply(code, b"failing\n", h)
            else:
                self.reply(200, b"recovered after %d\n" % (attempt - 1))
        elif kind == "drop":
            n = int(parts[1])
            if attempt <= n:
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"x" * 1000)
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            else:
                self.reply(200, b"complete\n")
        elif kind == "slow":
            n = int(parts[1])
            if attempt <= n:
                time.sleep(float(q.get("delay", "3")))
            self.reply(200, b"in time\n")
        elif kind == "ratelimit":
            k, n = parts[1], int(parts[2])
            wait = int(q.get("wait", "1"))
            if attempt <= n:
                if k == "429ra":
                    self.reply(429, b"slow down\n", {"Retry-After": str(wait)})
                elif k in ("403reset", "429reset"):
                    self.reply(int(k[:3]), b"rate limit exceeded\n", {
                        "x-ratelimit-limit": "60",
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(int(time.time()) + wait)})
                else:
                    self.reply(403, b"forbidden\n")
            else:
                self.reply(200, b"allowed\n", {"x-ratelimit-remaining": "59"})
        elif kind in ("upload", "dropup"):
            body = json.dumps({"length": got, "sha256": digest}).encode()
            self.reply(200 if ok else 400, body,
                       {"Content-Type": "application/json"})
        elif kind == "download":
            size = int(q.get("size", "0"))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = bytes(range(256)) * 4096
            left = size
            while left > 0:
                part = block[:min(left, len(block))]
                self.wfile.write(part)
                left -= len(part)
            self.wfile.flush()
        elif kind == "spent":
            self.reply(200, b"last one\n", {
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time()) +
                                         int(q.get("wait", "1")))})
        elif kind == "redirect":
            self.reply(302, b"moved, see there\n",
                       {"Location": q.get("to", "/ok")})
        elif kind == "trickle":
            size = int(q.get("size", "0"))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size
            try:
                while left > 0:
                    part = b"t" * min(left, 1024)
                    self.wfile.write(part)
                    self.wfile.flush()
                    left -= len(part)
                    time.sleep(0.1)
            except OSError:
                self.close_connection = True
        else:
            self.reply(404, b"no such fault\n")

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any
    do_PATCH = handle_any
    do_DELETE = handle_any
    do_HEAD = handle_any


def main():
    global log_path
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    log_path = a.log
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
