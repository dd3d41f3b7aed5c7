# tap.sh: TAP helpers for the shell tests. Source it first:
#   . "$(dirname "$0")/../lib/tap.sh"
# Each test file gets a fresh temp dir ($T, removed at exit) and runs the
# real binary ($VRUN). Servers started with start_server are killed at exit.
set -u
: "${VRUN:?run through make test, or set VRUN}"
TOP=${VRUN_TEST_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/vrun-test.XXXXXX")
_tap_n=0
_tap_fail=0
_tap_pids=()
_tap_cleanup() {
  local p
  for p in "${_tap_pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}
trap _tap_cleanup EXIT

ok() {  # ok COND-STATUS DESCRIPTION  (use: test ...; ok $? "desc")
  _tap_n=$((_tap_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"
  else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }
diag() { printf '# %s\n' "$@" | sed '2,$s/^/# /'; }
is() {  # is GOT WANT DESC
  if [ "$1" == "$2" ]; then ok 0 "$3"
  else ok 1 "$3"; diag "got:  '$1'" "want: '$2'"; fi
}
like() {  # like GOT REGEX DESC  (extended regex, grep -E)
  if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"
  else ok 1 "$3"; diag "got: '$1'" "no match for: $2"; fi
}
unlike() {
  if printf '%s' "$1" | grep -Eq -- "$2"; then ok 1 "$3"; diag "got: '$1'" "unexpected match: $2"
  else ok 0 "$3"; fi
}
# vr ARGS...: run vrun in the current dir; sets $out, $err, $rc.
vr() {
  "$VRUN" "$@" >"$T/.out" 2>"$T/.err" </dev/null
  rc=$?
  out=$(cat "$T/.out"); err=$(cat "$T/.err")
  return 0
}
# start_server NAME CMD...: start a server that writes its port to
# $T/NAME.port; waits (bounded) and sets ${NAME}_PORT.
start_server() {
  local name=$1 i; shift
  rm -f "$T/$name.port"
  "$@" --port-file "$T/$name.port" >"$T/$name.log" 2>&1 &
  _tap_pids+=($!)
  for i in $(seq 1 100); do
    [ -s "$T/$name.port" ] && break
    sleep 0.05
  done
  [ -s "$T/$name.port" ] || { echo "Bail out! $name did not start"; cat "$T/$name.log"; exit 1; }
  printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
}
done_testing() {
  echo "1..$_tap_n"
  [ "$_tap_fail" -eq 0 ]
}
