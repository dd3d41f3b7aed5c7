#!/usr/bin/env bash
# docker publish: registry auth. Basic (docker-registry's htpasswd), the
# bearer-token flow (token_auth.py), credentials from DOCKER_USERNAME /
# DOCKER_PASSWORD or ~/.docker/config.json, and no secret in any output.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/servers/registry/lib.sh"
command -v htpasswd >/dev/null || { echo "1..0 # SKIP htpasswd (apache2-utils) is not installed"; exit 0; }

USER_=ci-user
PASS=ci-pass-FAKE-s3cr3t
export HOME=$T/home
mkdir -p "$HOME"
unset DOCKER_USERNAME DOCKER_PASSWORD DOCKER_CONFIG

# {====== basic auth: the registry's own htpasswd ======
htpasswd -Bbn "$USER_" "$PASS" >"$T/htpasswd"
reg_start basic --htpasswd "$T/htpasswd"
reg_push_root "$basic_PORT" "$USER_:$PASS" ||
  { echo "Bail out! cannot push the root image"; exit 1; }
mk_project "$T/b" "$basic_PORT" 'scratch = false, platforms = { "linux/amd64", "linux/arm64" },'
cd "$T/b"

vr publish PKG_TAG=v1.0.0
is "$rc" 2 "basic auth, no credentials: fails"
like "$err" "registry 127.0.0.1:$basic_PORT requires credentials: set DOCKER_USERNAME and DOCKER_PASSWORD" \
  "... saying which variables to set"

DOCKER_USERNAME=$USER_ DOCKER_PASSWORD=wrong-FAKE vr publish PKG_TAG=v1.0.0
is "$rc" 2 "basic auth, wrong password: fails"
like "$err" "HTTP 401: access denied \(check DOCKER_USERNAME and DOCKER_PASSWORD\)" \
  "... with a hint"

DOCKER_USERNAME=$USER_ DOCKER_PASSWORD=$PASS vr publish PKG_TAG=v1.0.0
is "$rc" 0 "basic auth, credentials from the environment: publishes"
unlike "$out$err" "$PASS" "the password is never printed"
skopeo inspect --raw --tls-verify=false --creds "$USER_:$PASS" \
  "docker://127.0.0.1:$basic_PORT/acme/app:v1.0.0" >/dev/null
is "$?" 0 "... and the image is there"

# ~/.docker/config.json, as `docker login` leaves it
mkdir -p "$HOME/.docker"
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$basic_PORT" \
  "$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)" >"$HOME/.docker/config.json"
vr publish PKG_TAG=v1.0.1
is "$rc" 0 "basic auth, credentials from ~/.docker/config.json: publishes"
unlike "$out$err" "$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)" \
  "the encoded credentials are never printed"
rm -rf "$HOME/.docker"
# }======

# {====== bearer tokens ======
start_server tok python3 "$RS/token_auth.py" --user "$USER_" --password "$PASS" \
  --tokens "$T/tokens" --log "$T/tok.log"
reg_start bearer --bearer-realm "http://127.0.0.1:$tok_PORT/token" \
  --tokens "$T/tokens"
reg_push_root "$bearer_PORT" "$USER_:$PASS" ||
  { echo "Bail out! cannot push the root image (bearer)"; exit 1; }
mk_project "$T/t" "$bearer_PORT" 'platforms = { "linux/amd64", "linux/386" },'
cd "$T/t"
: >"$T/tok.log"

vr publish PKG_TAG=v1.0.0
is "$rc" 2 "bearer, anonymous: pull tokens only, the push fails"
like "$err" "registry 127.0.0.1:$bearer_PORT: POST acme/app/blobs/uploads/: HTTP 401: access denied" \
  "... with HTTP 401 on the first write"
like "$(cat "$T/tok.log")" "user=- service=test-registry scopes=repository:acme/app:pull repository:library/alpine:pull" \
  "anonymous token request: the service and both scopes, pull only"

: >"$T/tok.log"
vr publish PKG_TAG=v1.0.0 DOCKER_USERNAME=$USER_ DOCKER_PASSWORD=wrong-FAKE
is "$rc" 2 "bearer, wrong password: fails"
like "$err" "token request for acme/app failed with HTTP 401 \(check DOCKER_USERNAME and DOCKER_PASSWORD\)" \
  "... at the push token request"
is "$(cut -d' ' -f1-2 "$T/tok.log" | head -3)" "user=ci-user denied
user=- service=test-registry
user=ci-user denied" \
  "the root image (pull only) falls back to anonymous; the push does not"

: >"$T/tok.log"
vr publish PKG_TAG=v1.0.0 DOCKER_USERNAME=$USER_ DOCKER_PASSWORD=$PASS
is "$rc" 0 "bearer, credentials on the command line: publishes"
like "$(cat "$T/tok.log")" "user=ci-user service=test-registry scopes=repository:acme/app:pull,push repository:library/alpine:pull" \
  "push token: push on the target, pull on the root (for mounts)"
like "$out" "docker: app: [0-9]+ blobs uploaded \([0-9]+ bytes\), [0-9]+ already there, 2 mounted" \
  "root layers are mounted from the root repository, not uploaded"
unlike "$out$err" "tok-FAKE|$PASS" "no token or password in the output"
skopeo inspect --raw --tls-verify=false --creds "$USER_:$PASS" \
  "docker://127.0.0.1:$bearer_PORT/acme/appctl:v1.0.0-scratch" >/dev/null
is "$?" 0 "the bearer-pushed scratch image is there"
# }======

done_testing
