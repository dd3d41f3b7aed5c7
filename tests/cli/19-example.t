#!/usr/bin/env bash
# examples/hello builds, tests and cleans with vrun; make demo's script
# works in a temporary copy and leaves the source tree clean.
. "$(dirname "$0")/../lib/tap.sh"
cp -R "$TOP/examples/hello" "$T/hello"
cd "$T/hello"
rm -rf bin
vr -s
is "$rc" 0 "default goal builds"
is "$(./bin/hello vrun)" "Hello, vrun!" "the program works"
vr -s test
is "$rc" 0 "tests pass"
like "$out" "ok - bin/hello vrun" "test output"
vr -q build
is "$rc" 0 "up to date after the build"
vr -s clean
[ ! -e bin ]
ok $? "clean removes bin/"

out=$(VRUN="$VRUN" "$TOP/examples/demo.sh" 2>&1)
is "$?" 0 "examples/demo.sh runs"
like "$out" "demo: ok" "to the end"
[ ! -e "$TOP/examples/hello/bin" ]
ok $? "the source tree stays clean"
done_testing
