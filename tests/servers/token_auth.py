#!/usr/bin/env python3
# token_auth.py: a registry token service (the bearer flow of Docker Hub
# and Quay) for the tests, paired with registry_proxy.py --bearer-realm.
# SPDX-License-Identifier: MIT
#
#   token_auth.py --port-file F --user U --password P --tokens FILE --log L
#
# GET /token?service=S&scope=repository:R:pull,push[&scope=...]
#   Basic U:P  -> the scopes asked for; no credentials -> pull only;
#   wrong credentials -> 401. Answers {"token", "access_token",
#   "expires_in"} and appends "TOKEN SCOPE..." to --tokens, which the
#   proxy reads. Each request is logged as "user=U scopes=..." to --log.
import argparse
import base64
import http.server
import json
import os
import socketserver
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        a = self.server.args
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path != "/token":
            return self.reply(404, {"error": "not found"})
        user = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode() \
                    .partition(":")
            except ValueError:
                user, pw = "?", ""
            if user != a.user or pw != a.password:
                with self.server.lock, open(a.log, "a") as f:
                    f.write("user=%s denied\n" % user)
                return self.reply(401, {"details": "bad credentials"})
        scopes = []
        for sc in q.get("scope", []):
            if not user:
                repo, _, acts = sc.rpartition(":")
                sc = "%s:%s" % (repo, "pull" if "pull" in acts else "")
            scopes.append(sc)
        with self.server.lock:
            self.server.n += 1
            tok = "tok-FAKE-%d" % self.server.n
            with open(a.tokens, "a") as f:
                f.write("%s %s\n" % (tok, " ".join(scopes)))
            with open(a.log, "a") as f:
                f.write("user=%s service=%s scopes=%s\n" %
                        (user or "-", ",".join(q.get("service", [])),
                         " ".join(scopes)))
        self.reply(200, {"token": tok, "access_token": tok,
                         "expires_in": 300})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.n = 0
    srv.lock = threading.Lock()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
