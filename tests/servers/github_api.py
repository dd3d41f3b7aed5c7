#!/usr/bin/env python3
# github_api.py: a local GitHub REST peer for vrun's tests, following
# /work/shared/contracts/github-releases.md (releases and release assets).
# SPDX-License-Identifier: MIT
#
# Two listeners on 127.0.0.1: the API (its port goes to --port-file) and
# the uploads host (named by every release's upload_url, so a client that
# builds upload URLs by hand fails). State lives in memory. Every GitHub
# request is appended to --log as one JSON line (the token itself is never
# written: only whether it matched). Test-only endpoints on the API port:
#   POST /_control  {"fault": NAME, "count": N, ...}  arm a fault
#                   {"seed": {"releases": N, "tag_prefix": "v0."}}
#                   {"plant_asset": {"release_id":, "name":, "state":,
#                                    "size":}}
#                   {"immutable_repo": true}
#                   {"upload_delay_ms": N}  answer each upload N ms late
#   GET  /_state    releases (with assets), violations, request count
# Faults (each fires on the next N matching requests):
#   ratelimit      403/429 with x-ratelimit-* or retry-after headers
#                  (params: status, kind=primary|secondary, reset, reset_in,
#                  retry_after, match=api|uploads|any)
#   create_500     create answers 500, nothing created
#   create_500_saved  create makes the release, then answers 500
#   workflow_404   create/update answer the workflow-file 404
#   drop_upload    read half the upload body, then reset the connection
#                  (a "starter" asset stays behind)
#   upload_502     read the body, leave a "starter" asset, answer 502
#   upload_500     same with 500 "Error saving asset"
#   upload_504_saved  store the asset, then answer 504
#   race_422       plant an "open" asset of that name, answer 422
import argparse
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

API_VERSION = "2022-11-28"
DOC = "https://docs.github.com/rest"
CHUNK = 1 << 20


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.token = args.token
        self.scopes = args.scopes
        self.repos = {}          # lower "owner/repo" -> access "push"|"read"
        rid = 1300192
        for r in args.repo:
            self.repos[r.lower()] = ("push", rid, r)
            rid += 1
        for r in args.read_only_repo:
            self.repos[r.lower()] = ("read", rid, r)
            rid += 1
        self.releases = {}       # id -> release dict (assets kept apart)
        self.assets = {}         # id -> asset dict (+ "_release")
        self.next_id = 1000
        self.faults = {}         # name -> dict(count=..., params...)
        self.burned = set()      # tags of deleted immutable releases
        self.immutable_repo = args.immutable
        self.violations = []
        self.requests = 0
        self.digest = not args.no_digest
        self.log = open(args.log, "a") if args.log else None
        self.uploads_port = 0
        self.upload_delay = 0.0

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def take_fault(self, name, kind="api"):
        f = self.faults.get(name)
        if not f or f["count"] <= 0:
            return None
        m = f.get("match", "any")
        if m != "any" and m != kind:
            return None
        f["count"] -= 1
        return f

    def violation(self, msg):
        self.violations.append(msg)

    def write_log(self, entry):
        if not self.log:
            return
        with self.log_lock:
            self.log.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # no Nagle: small replies (100 Continue, headers) go out at once,
        # as from a real server, instead of waiting for a delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    # -- plumbing ---------------------------------------------------------
    @property
    def st(self):
        return self.server.state

    def rl_headers(self):
        return [("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4999"),
                ("x-ratelimit-used", "1"),
                ("x-ratelimit-reset", str(int(time.time()) + 3600)),
                ("x-ratelimit-resource", "core")]

    def reply(self, status, obj=None, headers=(), rl=True):
        body = b"" if obj is None else json.dumps(obj).encode()
        if self.pre:
            self.pre()
            self.pre = None
        self.send_response(status)
        hdrs = dict(self.rl_headers()) if rl else {}
        for k, v in headers:
            hdrs[k] = v
        for k, v in hdrs.items():
            self.send_header(k, v)
        if self.st.scopes != "none":
            self.send_header("X-OAuth-Scopes", self.st.scopes)
        self.send_header("X-GitHub-Api-Version-Selected", API_VERSION)
        self.send_header("X-GitHub-Request-Id", "0000:%d" % self.st.requests)
        if status != 204:
            self.send_header("Content-Type",
                             "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204 and body:
            self.wfile.write(body)
        self.entry["status"] = status

    pre = None

    def error(self, code, message, **extra):
        obj = {"message": message, "documentation_url": DOC}
        obj.update(extra)
        self.reply(code, obj)

    def not_found(self):
        self.error(404, "Not Found", status="404")

    def validation(self, resource, code, field, message=None):
        e = {"resource": resource, "code": code, "field": field}
        if message:
            e["message"] = message
        self.error(422, "Validation Failed", errors=[e])

    def base(self):
        return "http://%s" % self.headers.get("Host", "127.0.0.1")

    def read_body(self):
        """Read a (small) API request body whole, before anything else."""
        self.raw = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.violation("chunked API body")
            self.close_connection = True
            return
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n > CHUNK:
            self.drain(n)
            return
        self.raw = self.rfile.read(n) if n else b""
        self.entry["body_len"] = len(self.raw)

    def read_json(self):
        if not self.raw:
            return None, None
        try:
            obj = json.loads(self.raw)
        except ValueError:
            return None, "Problems parsing JSON"
        self.entry["body"] = obj
        return obj, None

    def drain(self, left):
        while left > 0:
            b = self.rfile.read(min(CHUNK, left))
            if not b:
                break
            left -= len(b)

    def violation(self, msg):
        with self.st.lock:
            self.st.violation("%s %s: %s" % (self.command, self.path, msg))

    # -- common checks (contract section 1) -------------------------------
    def check_common(self):
        """Returns "push"/"read" access, or None after answering."""
        h = self.headers
        ua = h.get("User-Agent")
        self.entry.update({
            "ua": ua, "accept": h.get("Accept"),
            "api_version": h.get("X-GitHub-Api-Version"),
            "content_type": h.get("Content-Type"),
            "content_length": h.get("Content-Length"),
            "transfer_encoding": h.get("Transfer-Encoding"),
        })
        if not ua:
            self.violation("no User-Agent")
            self.error(403, "Request forbidden by administrative rules. "
                       "Please make sure your request has a User-Agent "
                       "header (%s)" % DOC)
            return None
        v = h.get("X-GitHub-Api-Version")
        if v is None:
            self.violation("no X-GitHub-Api-Version")
        elif v != API_VERSION:
            self.error(400, "API version '%s' is not supported." % v)
            return None
        if h.get("Accept") != "application/vnd.github+json":
            self.violation("Accept is %r" % h.get("Accept"))
        auth = h.get("Authorization")
        if auth is None:
            self.entry["auth"] = "none"
            self.error(401, "Requires authentication")
            return None
        m = re.match(r"(Bearer|token) (.*)$", auth)
        if not m or m.group(2) != self.st.token:
            self.entry["auth"] = "bad"
            self.error(401, "Bad credentials", status="401")
            return None
        self.entry["auth"] = m.group(1).lower() + "-ok"
        if m.group(1) != "Bearer":
            self.violation("Authorization is not Bearer")
        return "ok"

    def rate_limited(self, kind):
        with self.st.lock:
            f = self.st.take_fault("ratelimit", kind)
        if not f:
            return False
        status = f.get("status", 403)
        hdrs = [("x-ratelimit-limit", "5000"), ("x-ratelimit-used", "5000"),
                ("x-ratelimit-resource", "core")]
        if f.get("kind", "primary") == "primary":
            reset = f.get("reset") or int(time.time()) + f.get("reset_in", 1)
            hdrs += [("x-ratelimit-remaining", "0"),
                     ("x-ratelimit-reset", str(reset))]
            msg = ("API rate limit exceeded for user ID 1. If you reach out "
                   "to GitHub Support for help, please include the request "
                   "ID 0000.")
        else:
            hdrs += [("x-ratelimit-remaining", "4000"),
                     ("x-ratelimit-reset", str(int(time.time()) + 3600))]
            if f.get("retry_after", 1) >= 0:
                hdrs.append(("retry-after", str(f.get("retry_after", 1))))
            msg = ("You have exceeded a secondary rate limit. Please wait a "
                   "few minutes before you try again.")
        self.reply(status, {"message": msg, "documentation_url": DOC},
                   headers=hdrs)
        return True

    def repo_of(self, owner, name):
        r = self.st.repos.get(("%s/%s" % (owner, name)).lower())
        return r

    # -- objects ----------------------------------------------------------
    def asset_obj(self, a):
        return {k: v for k, v in a.items() if not k.startswith("_")}

    def release_obj(self, r):
        out = {k: v for k, v in r.items() if not k.startswith("_")}
        out["assets"] = [self.asset_obj(a) for a in self.st.assets.values()
                         if a["_release"] == r["id"]]
        return out

    def make_release(self, repo, body, draft):
        s = self.st
        rid = s.new_id()
        api = self.base()
        full = repo[2]
        tag = body["tag_name"]
        r = {
            "id": rid, "node_id": "RE_%d" % rid,
            "url": "%s/repos/%s/releases/%d" % (api, full, rid),
            "html_url": "https://github.com/%s/releases/tag/%s" % (full,
                                                                    tag),
            "assets_url": "%s/repos/%s/releases/%d/assets" % (api, full,
                                                              rid),
            "upload_url": "http://127.0.0.1:%d/repos/%s/releases/%d/assets"
                          "{?name,label}" % (s.uploads_port, full, rid),
            "tarball_url": None, "zipball_url": None,
            "tag_name": tag,
            "target_commitish": body.get("target_commitish", "master"),
            "name": body.get("name"), "body": body.get("body"),
            "draft": bool(draft),
            "prerelease": bool(body.get("prerelease", False)),
            "immutable": False,
            "created_at": now_iso(),
            "published_at": None if draft else now_iso(),
            "updated_at": now_iso(),
            "author": {"login": "vrun-test", "id": 1},
            "_repo": repo[2].lower(),
            "_seq": rid,
        }
        s.releases[rid] = r
        return r

    def page(self, items, qs, link_base):
        try:
            per = int(qs.get("per_page", ["30"])[0])
            pg = int(qs.get("page", ["1"])[0])
        except ValueError:
            self.error(422, "Invalid request.\n\nper_page/page must be "
                       "integers.")
            return
        per = max(1, min(per, 100))
        pg = max(1, pg)
        chunk = items[(pg - 1) * per:pg * per]
        last = max(1, (len(items) + per - 1) // per)
        links = []
        if pg < last:
            links.append('<%s?per_page=%d&page=%d>; rel="next"'
                         % (link_base, per, pg + 1))
            links.append('<%s?per_page=%d&page=%d>; rel="last"'
                         % (link_base, per, last))
        if pg > 1:
            links.append('<%s?per_page=%d&page=%d>; rel="prev"'
                         % (link_base, per, pg - 1))
            links.append('<%s?per_page=%d&page=1>; rel="first"'
                         % (link_base, per))
        hdrs = [("Link", ", ".join(links))] if links else []
        self.reply(200, chunk, headers=hdrs)

    # -- dispatch ---------------------------------------------------------
    def handle_any(self):
        u = urlsplit(self.path)
        self.pre = None
        self.entry = {"server": self.server.kind, "method": self.command,
                      "path": u.path, "query": u.query,
                      "t": time.monotonic()}
        self.qs = parse_qs(u.query)
        try:
            if u.path.startswith("/_"):
                return self.control(u.path)
            with self.st.lock:
                self.st.requests += 1
            self.dispatch(unquote(u.path))
        finally:
            if not u.path.startswith("/_"):
                self.st.write_log(self.entry)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

    def dispatch(self, path):
        if self.server.kind == "uploads":
            m = re.match(r"^/repos/([^/]+)/([^/]+)/releases/(\d+)/assets$",
                         path)
            if self.command != "POST" or not m:
                self.read_body()
                return self.not_found()
            return self.upload(m.group(1), m.group(2), int(m.group(3)))
        self.read_body()
        if self.check_common() is None:
            return
        if self.rate_limited("api"):
            return
        m = re.match(r"^/repositories/(\d+)/releases$", path)
        if m:
            for repo in self.st.repos.values():
                if repo[1] == int(m.group(1)):
                    return self.list_releases(repo)
            return self.not_found()
        m = re.match(r"^/repositories/(\d+)/releases/(\d+)/assets$", path)
        if m:
            return self.list_assets(None, int(m.group(2)))
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if not m:
            return self.not_found()
        repo = self.repo_of(m.group(1), m.group(2))
        rest = m.group(3) or ""
        if repo is None:
            return self.not_found()
        c = self.command
        if rest == "/releases" and c == "GET":
            return self.list_releases(repo)
        if rest == "/releases" and c == "POST":
            return self.create(repo)
        m = re.match(r"^/releases/(\d+)$", rest)
        if m and c == "GET":
            return self.get_release(repo, int(m.group(1)))
        if m and c == "PATCH":
            return self.update(repo, int(m.group(1)))
        if m and c == "DELETE":
            return self.delete_release(repo, int(m.group(1)))
        m = re.match(r"^/releases/tags/(.+)$", rest)
        if m and c == "GET":
            return self.by_tag(repo, m.group(1))
        m = re.match(r"^/releases/(\d+)/assets$", rest)
        if m and c == "GET":
            return self.list_assets(repo, int(m.group(1)))
        m = re.match(r"^/releases/assets/(\d+)$", rest)
        if m and c == "DELETE":
            return self.delete_asset(repo, int(m.group(1)))
        return self.not_found()

    # -- releases ---------------------------------------------------------
    def visible(self, repo, r):
        return r["_repo"] == repo[2].lower() and \
            (not r["draft"] or repo[0] == "push")

    def list_releases(self, repo):
        with self.st.lock:
            items = [self.release_obj(r) for r in
                     sorted(self.st.releases.values(),
                            key=lambda r: -r["_seq"])
                     if self.visible(repo, r)]
        self.page(items, self.qs,
                  "%s/repositories/%d/releases" % (self.base(), repo[1]))

    def find(self, repo, rid):
        r = self.st.releases.get(rid)
        if r is None or not self.visible(repo, r):
            return None
        return r

    def get_release(self, repo, rid):
        with self.st.lock:
            r = self.find(repo, rid)
            obj = self.release_obj(r) if r else None
        if obj is None:
            return self.not_found()
        self.reply(200, obj)

    def by_tag(self, repo, tag):
        with self.st.lock:
            hits = [r for r in self.st.releases.values()
                    if r["_repo"] == repo[2].lower() and not r["draft"]
                    and r["tag_name"] == tag]
            obj = self.release_obj(hits[0]) if hits else None
        if obj is None:
            return self.not_found()
        self.reply(200, obj)

    def check_fields(self, body, create):
        strs = ["tag_name", "target_commitish", "name", "body",
                "discussion_category_name", "make_latest"]
        bools = ["draft", "prerelease"] + \
            (["generate_release_notes"] if create else [])
        if not isinstance(body, dict):
            self.error(400, "Body should be a JSON object")
            return False
        for k, v in body.items():
            if k in strs:
                if not isinstance(v, str):
                    self.validation("Release", "invalid", k)
                    return False
            elif k in bools:
                if not isinstance(v, bool):
                    self.validation("Release", "invalid", k)
                    return False
            else:
                self.violation("unknown release field %r" % k)
                self.validation("Release", "invalid", k)
                return False
        if body.get("make_latest", "true") not in ("true", "false",
                                                     "legacy"):
            self.validation("Release", "invalid", "make_latest")
            return False
        return True

    def create(self, repo):
        body, err = self.read_json()
        if err:
            return self.error(400, err)
        if body is None:
            return self.error(400, "Body should be a JSON object")
        if self.headers.get("Content-Type") != "application/json":
            self.violation("create without Content-Type: application/json")
        if not self.check_fields(body, True):
            return
        if "tag_name" not in body:
            return self.validation("Release", "missing_field", "tag_name")
        if repo[0] != "push":
            return self.error(403, "Resource not accessible by personal "
                              "access token", status="403")
        s = self.st
        with s.lock:
            if s.take_fault("workflow_404"):
                f = "not_found"
            elif s.take_fault("create_500"):
                f = "500"
            elif s.take_fault("create_500_saved"):
                f = "500_saved"
            else:
                f = None
            tag = body["tag_name"]
            if f == "not_found":
                obj = None
            elif tag in s.burned:
                obj = "burned"
            elif any(r["tag_name"] == tag and not r["draft"] and
                     r["_repo"] == repo[2].lower()
                     for r in s.releases.values()):
                obj = "exists"
            elif f == "500":
                obj = None
            else:
                r = self.make_release(repo, body, body.get("draft", False))
                obj = self.release_obj(r)
        if f == "not_found":
            return self.error(404, "Not Found", status="404")
        if obj == "burned":
            return self.error(422, "Validation Failed", status="422",
                              errors=[{"resource": "Release",
                                       "code": "custom",
                                       "field": "tag_name",
                                       "message": "tag_name was used by an "
                                       "immutable release"}])
        if obj == "exists":
            return self.validation("Release", "already_exists", "tag_name")
        if f in ("500", "500_saved"):
            return self.error(500, "Server Error")
        self.reply(201, obj, headers=[("Location", obj["url"])])

    def update(self, repo, rid):
        body, err = self.read_json()
        if err:
            return self.error(400, err)
        body = body or {}
        if not self.check_fields(body, False):
            return
        if repo[0] != "push":
            return self.error(403, "Resource not accessible by personal "
                              "access token", status="403")
        s = self.st
        with s.lock:
            if s.take_fault("workflow_404"):
                obj = "wf"
            else:
                r = self.find(repo, rid)
                obj = None
                if r is not None:
                    if r["immutable"] and "tag_name" in body:
                        obj = "immutable"
                    else:
                        for k, v in body.items():
                            r[k] = v
                        if body.get("draft") is False and \
                                r["published_at"] is None:
                            r["published_at"] = now_iso()
                            r["immutable"] = bool(s.immutable_repo)
                        if body.get("draft") is True:
                            r["published_at"] = None
                        r["updated_at"] = now_iso()
                        obj = self.release_obj(r)
        if obj is None or obj == "wf":
            return self.error(404, "Not Found", status="404")
        if obj == "immutable":
            return self.error(422, "Cannot change the tag of an immutable "
                              "release")
        self.reply(200, obj)

    def delete_release(self, repo, rid):
        if repo[0] != "push":
            return self.error(403, "Resource not accessible by personal "
                              "access token", status="403")
        s = self.st
        with s.lock:
            r = self.find(repo, rid)
            if r is not None:
                del s.releases[rid]
                for aid in [a for a, v in s.assets.items()
                            if v["_release"] == rid]:
                    del s.assets[aid]
                if r["immutable"]:
                    s.burned.add(r["tag_name"])
        if r is None:
            return self.not_found()
        self.reply(204)

    # -- assets -----------------------------------------------------------
    def list_assets(self, repo, rid):
        with self.st.lock:
            r = self.st.releases.get(rid)
            if r is not None and repo is not None and \
                    not self.visible(repo, r):
                r = None
            items = [self.asset_obj(a) for a in
                     sorted(self.st.assets.values(), key=lambda a: a["id"])
                     if a["_release"] == rid] if r else None
        if items is None:
            return self.not_found()
        self.page(items, self.qs, "%s/repositories/%d/releases/%d/assets"
                  % (self.base(), 0 if repo is None else repo[1], rid))

    def new_asset(self, r, name, ctype, state, size=0):
        s = self.st
        aid = s.new_id()
        api = self.base() if self.server.kind == "api" else \
            "http://127.0.0.1:%d" % s.api_port
        a = {
            "id": aid, "node_id": "RA_%d" % aid,
            "url": "%s/repos/%s/releases/assets/%d" % (api, r["_repo"], aid),
            "browser_download_url": "https://github.com/%s/releases/"
                                    "download/%s/%s" % (r["_repo"],
                                                        r["tag_name"], name),
            "name": name, "label": None, "state": state,
            "content_type": ctype, "size": size, "digest": None,
            "download_count": 0, "created_at": now_iso(),
            "updated_at": now_iso(), "uploader": {"login": "vrun-test"},
            "_release": r["id"],
        }
        s.assets[aid] = a
        return a

    def delete_asset(self, repo, aid):
        if repo[0] != "push":
            return self.error(403, "Resource not accessible by personal "
                              "access token", status="403")
        s = self.st
        with s.lock:
            a = s.assets.get(aid)
            r = s.releases.get(a["_release"]) if a else None
            if r is not None and r["immutable"]:
                res = "immutable"
            elif a is not None and r is not None and \
                    r["_repo"] == repo[2].lower():
                del s.assets[aid]
                res = "ok"
            else:
                res = None
        if res == "immutable":
            return self.error(422, "Cannot delete assets of an immutable "
                              "release")
        if res is None:
            return self.not_found()
        self.reply(204)

    def upload(self, owner, name, rid):
        h = self.headers
        te = h.get("Transfer-Encoding", "").lower()
        cl = h.get("Content-Length")
        if te != "chunked" and cl and cl.isdigit():
            # answer only after the body is in, as a proxy would
            self.pre = lambda: self.drain(int(cl))
        else:
            self.pre = lambda: None
        if self.check_common() is None:
            return
        if self.rate_limited("uploads"):
            return
        self.pre = lambda: None
        if te == "chunked" or not cl or not cl.isdigit():
            self.violation("upload without an exact Content-Length")
            self.close_connection = True
            return self.reply(400, {"message": "Bad Content-Length: %s"
                                    % (cl or ""), "request_id": "0000"})
        left = int(cl)
        repo = self.repo_of(owner, name)
        aname = self.qs.get("name", [None])[0]
        ctype = h.get("Content-Type")
        s = self.st
        with s.lock:
            r = s.releases.get(rid)
            if repo is None or r is None or not self.visible(repo, r):
                why = "404"
            elif repo[0] != "push":
                why = "403"
            elif not aname:
                why = "noname"
            elif not ctype:
                why = "notype"
            elif r["immutable"]:
                why = "immutable"
            elif any(a["_release"] == rid and a["name"] == aname
                     for a in s.assets.values()):
                why = "exists"
            elif s.take_fault("race_422", "uploads"):
                self.new_asset(r, aname, ctype, "open")
                why = "exists"
            else:
                why = None
                a = self.new_asset(r, aname, ctype, "starter")
                # at most one fault per request
                drop = s.take_fault("drop_upload", "uploads")
                f502 = not drop and s.take_fault("upload_502", "uploads")
                f500 = not drop and not f502 and \
                    s.take_fault("upload_500", "uploads")
                f504 = not drop and not f502 and not f500 and \
                    s.take_fault("upload_504_saved", "uploads")
        if why is not None:
            self.drain(left)
            if why == "404":
                return self.not_found()
            if why == "403":
                return self.error(403, "Resource not accessible by "
                                  "personal access token")
            if why == "noname":
                return self.validation("ReleaseAsset", "missing_field",
                                       "name")
            if why == "notype":
                self.violation("upload without Content-Type")
                return self.error(400, "Content-Type header is required")
            if why == "immutable":
                return self.error(422, "Cannot upload assets to an "
                                  "immutable release")
            return self.reply(422, {"message": "Validation Failed",
                                    "request_id": "0000:1",
                                    "documentation_url": DOC,
                                    "errors": [{"resource": "ReleaseAsset",
                                                "code": "already_exists",
                                                "field": "name"}]})
        self.entry["asset"] = aname
        hasher = hashlib.sha256() if s.digest else None
        got = 0
        stop_at = left // 2 if drop else -1
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while got < left:
            want = min(CHUNK, left - got)
            if stop_at >= 0 and got + want > stop_at:
                want = max(0, stop_at - got)
                if want == 0:
                    break
            n = self.rfile.readinto(view[:want])
            if not n:
                break
            if hasher:
                hasher.update(view[:n])
            got += n
        self.entry["body_len"] = got
        if drop or got < left:
            # reset the connection, the way a proxy dropping us would
            self.entry["status"] = "dropped"
            try:
                self.connection.setsockopt(socket.SOL_SOCKET,
                                           socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            self.close_connection = True
            return
        if hasher:
            self.entry["sha256"] = hasher.hexdigest()
        if s.upload_delay:
            time.sleep(s.upload_delay)  # a slower server, for kill tests
        if f502:
            return self.error(502, "Bad Gateway")
        if f500:
            return self.error(500, "Error saving asset")
        with s.lock:
            if a["id"] in s.assets:
                a["state"] = "uploaded"
                a["size"] = got
                a["digest"] = ("sha256:" + hasher.hexdigest()) \
                    if hasher else None
                a["updated_at"] = now_iso()
            obj = self.asset_obj(a)
        if f504:
            return self.error(504, "Gateway Time-out")
        self.reply(201, obj)

    # -- test control -----------------------------------------------------
    def control(self, path):
        s = self.st
        if path == "/_state" and self.command == "GET":
            with s.lock:
                rels = [self.release_obj(r) for r in
                        sorted(s.releases.values(), key=lambda r: r["_seq"])]
                obj = {"releases": rels, "violations": list(s.violations),
                       "requests": s.requests,
                       "faults": {k: v["count"]
                                  for k, v in s.faults.items()}}
            return self.reply(200, obj, rl=False)
        if path == "/_control" and self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            cmd = json.loads(self.rfile.read(n) or b"{}")
            with s.lock:
                if "fault" in cmd:
                    f = dict(cmd)
                    f["count"] = int(cmd.get("count", 1))
                    s.faults[cmd["fault"]] = f
                if "upload_delay_ms" in cmd:
                    s.upload_delay = float(cmd["upload_delay_ms"]) / 1000
                if "immutable_repo" in cmd:
                    s.immutable_repo = bool(cmd["immutable_repo"])
                if "seed" in cmd:
                    self.seed(cmd["seed"])
                out = {}
                if "plant_asset" in cmd:
                    p = cmd["plant_asset"]
                    r = s.releases[int(p["release_id"])]
                    a = self.new_asset(r, p["name"],
                                       p.get("content_type", "text/plain"),
                                       p.get("state", "uploaded"),
                                       int(p.get("size", 0)))
                    if p.get("digest"):
                        a["digest"] = p["digest"]
                    out = self.asset_obj(a)
            return self.reply(200, out, rl=False)
        self.reply(404, {"message": "no such control"}, rl=False)

    def seed(self, spec):
        repo = self.st.repos[spec.get("repo", next(iter(self.st.repos)))
                             .lower()]
        for i in range(int(spec.get("releases", 0))):
            tag = "%s%d" % (spec.get("tag_prefix", "v0.0."), i)
            draft = bool(spec.get("draft", False))
            self.make_release(repo, {"tag_name": tag, "name": tag},
                              draft)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token", default="ghp_FAKEtokenForVrunTests")
    ap.add_argument("--scopes", default="read:org, repo, write:packages",
                    help='X-OAuth-Scopes value, or "none" to omit it')
    ap.add_argument("--repo", action="append", default=[])
    ap.add_argument("--read-only-repo", action="append", default=[])
    ap.add_argument("--immutable", action="store_true")
    ap.add_argument("--no-digest", action="store_true")
    ap.add_argument("--log")
    args = ap.parse_args()
    if not args.repo and not args.read_only_repo:
        args.repo = ["vrun-test/hello"]
    state = State(args)
    api = Server(("127.0.0.1", 0), Handler)
    up = Server(("127.0.0.1", 0), Handler)
    api.kind, up.kind = "api", "uploads"
    api.state = up.state = state
    state.uploads_port = up.server_address[1]
    state.api_port = api.server_address[1]
    threading.Thread(target=up.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % api.server_address[1])
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
