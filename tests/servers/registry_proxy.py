#!/usr/bin/env python3
# registry_proxy.py: runs Debian's docker-registry on a free loopback port
# and a recording proxy in front of it (the port the tests use).
# SPDX-License-Identifier: MIT
#
#   registry_proxy.py --port-file F --root DIR --log FILE
#                     [--htpasswd FILE]            basic auth (the registry's)
#                     [--bearer-realm URL --tokens FILE]  bearer auth (here)
#
# Every request is logged as "METHOD PATH STATUS BODY_BYTES" to --log, so
# tests can count blob uploads. In bearer mode the proxy answers 401 with
# a Bearer challenge unless the request carries a token that
# token_auth.py issued (listed in --tokens) whose scope covers it.
import argparse
import ctypes
import http.client
import http.server
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

CONFIG = """version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: test-secret-FAKE
{auth}"""

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-authorization", "proxy-authenticate"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def set_pdeathsig():
    # the registry dies with us, even if we are killed hard
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_registry(args):
    auth = ""
    if args.htpasswd:
        auth = ("auth:\n  htpasswd:\n    realm: test\n    path: %s\n"
                % args.htpasswd)
    # a port picked then released may be taken again before the registry
    # binds it: try a few, each wait bounded
    for _ in range(5):
        port = free_port()
        cfg = os.path.join(args.root, "config.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(root=args.root, port=port, auth=auth))
        log = open(os.path.join(args.root, "registry.log"), "ab")
        proc = subprocess.Popen([args.registry, "serve", cfg], stdout=log,
                                stderr=log, preexec_fn=set_pdeathsig)
        for _ in range(200):
            if proc.poll() is not None:
                break
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/v2/")
                c.getresponse().read()
                c.close()
                return proc, port
            except OSError:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sys.exit("docker-registry did not start")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def record(self, status, nbytes):
        with self.server.lock:
            with open(self.server.args.log, "a") as f:
                f.write("%s %s %d %d\n" % (self.command, self.path, status,
                                           nbytes))

    def tokens(self):
        try:
            with open(self.server.args.tokens) as f:
                return dict(l.split(" ", 1) for l in f.read().splitlines()
                            if " " in l)
        except FileNotFoundError:
            return {}

    def bearer_ok(self):
        """None when allowed, else the scope to challenge for."""
        path = self.path.split("?", 1)[0]
        m = re.match(r"^/v2/(.+?)/(blobs|manifests|tags)/", path)
        if not m:
            if path.rstrip("/") == "/v2":
                need = []
            else:
                need = None
        else:
            act = "pull" if self.command in ("GET", "HEAD") else "push"
            need = ["repository:%s:%s" % (m.group(1), act)]
            fr = re.search(r"[?&]from=([^&]+)", self.path)
            if fr:
                need.append("repository:%s:pull" % fr.group(1))
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else None
        granted = self.tokens().get(tok) if tok else None
        if granted is not None and need is not None:
            have = set()
            for sc in granted.split():
                repo, _, acts = sc.rpartition(":")
                for a in acts.split(","):
                    have.add("%s:%s" % (repo, a))
            if all(n in have for n in need):
                return None
        if need:
            return need[0].rsplit(":", 1)[0] + ":pull,push"
        return ""

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if self.server.args.bearer_realm:
            scope = self.bearer_ok()
            if scope is not None:
                ch = 'Bearer realm="%s",service="test-registry"' % \
                    self.server.args.bearer_realm
                if scope:
                    ch += ',scope="%s"' % scope
                msg = b'{"errors":[{"code":"UNAUTHORIZED"}]}'
                self.send_response(401)
                self.send_header("WWW-Authenticate", ch)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(msg)
                self.record(401, n)
                return
        # a list, not a dict: clients send several Accept lines
        drop = set(HOP)
        if self.server.args.bearer_realm:
            drop.add("authorization")
        c = http.client.HTTPConnection("127.0.0.1", self.server.backend,
                                       timeout=120)
        c.putrequest(self.command, self.path, skip_host=True,
                     skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in drop and k.lower() != "content-length":
                c.putheader(k, v)
        if body is not None or self.command in ("PUT", "POST", "PATCH"):
            c.putheader("Content-Length", str(len(body or b"")))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length",
                         r.getheader("Content-Length", str(len(data)))
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()
        self.record(r.status, n)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--registry", default="/usr/bin/docker-registry")
    ap.add_argument("--htpasswd")
    ap.add_argument("--bearer-realm")
    ap.add_argument("--tokens")
    args = ap.parse_args()
    os.makedirs(args.root, exist_ok=True)
    proc, port = start_registry(args)

    def stop(*_):
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.backend = port
    srv.lock = threading.Lock()
    open(args.log, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
