#!/usr/bin/env bash
# git.push over smart HTTP with Basic auth: GITHUB_TOKEN is the password
# (user x-access-token), tried once, never printed; a wrong or missing
# token fails without looping.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
unset GITHUB_TOKEN
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' > "$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
TOKEN=ghp_FAKEgitHttpToken

# A smart-HTTP git server: `git http-backend` behind Basic auth, logging
# each request's method, path and whether it carried the right token.
cat > "$T/git_http.py" <<'EOF'
import argparse, base64, http.server, os, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--root", required=True)
ap.add_argument("--token", required=True)
ap.add_argument("--log", required=True)
a = ap.parse_args()
good = "Basic " + base64.b64encode(
    ("x-access-token:" + a.token).encode()).decode()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "") == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().strip().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def handle_any(self):
        data = self.body() if self.command == "POST" else b""
        auth = self.headers.get("Authorization")
        with open(a.log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path.split("?")[0],
                    "none" if auth is None else
                    "good" if auth == good else "bad"))
        if auth != good:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=a.root,
                   GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(data)), REMOTE_USER="x",
                   REMOTE_ADDR="127.0.0.1")
        p = subprocess.run(["git", "http-backend"], input=data,
                           capture_output=True, env=env, timeout=30)
        head, _, rest = p.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)

    do_GET = handle_any
    do_POST = handle_any

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(a.port_file + ".tmp", a.port_file)
s.serve_forever()
EOF

mkdir -p srv
git init -q --bare srv/pub.git
start_server git python3 "$T/git_http.py" --root "$T/srv" --token "$TOKEN" \
  --log "$T/requests.log"

git init -q -b master r
cd r || exit 1
cat > vrun.lua <<'EOF'
task "push" { modules = { "git" }, run = function()
  require("git").push { remote = "origin", refs = { "v1.0.0" } }
end }
EOF
git add vrun.lua && git commit -qm first && git tag -a v1.0.0 -m v1.0.0
git remote add origin "http://127.0.0.1:$git_PORT/pub.git"

vr push
is "$rc" 2 "no GITHUB_TOKEN: exit 2"
like "$err" "git: origin: .*no accepted credentials \(tried ssh-agent and GITHUB_TOKEN\)" \
  "no GITHUB_TOKEN: says which credentials were tried"
is "$(grep -c . "$T/requests.log")" 1 "no GITHUB_TOKEN: one request, no loop"

: > "$T/requests.log"
vr push GITHUB_TOKEN=ghp_FAKEwrongToken
is "$rc" 2 "wrong token: exit 2"
like "$err" "git: origin: authentication failed: the server refused GITHUB_TOKEN" \
  "wrong token: says the server refused it"
is "$(grep -c ' bad$' "$T/requests.log")" 1 "wrong token: sent once, not retried"
unlike "$out$err" "ghp_FAKEwrong" "wrong token: never printed"

: > "$T/requests.log"
GITHUB_TOKEN=$TOKEN vr push
is "$rc" 0 "token from the environment: exit 0"
like "$out" "git: push refs/tags/v1.0.0:refs/tags/v1.0.0 to origin \(http://127.0.0.1:$git_PORT/pub.git\)" \
  "push over http: says what it pushes"
is "$(git -C "$T/srv/pub.git" for-each-ref --format='%(refname) %(objectname)')" \
  "refs/tags/v1.0.0 $(git rev-parse v1.0.0)" "push over http: the tag arrived"
like "$(cat "$T/requests.log")" "POST /pub.git/git-receive-pack good" \
  "push over http: sent with the token as x-access-token"
unlike "$out$err" "$TOKEN" "push over http: the token is never printed"

done_testing
