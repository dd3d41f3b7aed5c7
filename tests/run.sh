#!/usr/bin/env bash
# Run every test: C unit tests and CLI/module scripts, as TAP under prove.
# Called by `make test` with VRUN, O and B set. Extra args are passed to
# prove (e.g. tests/run.sh tests/cli/10-args.t to run one file).
set -eu
cd "$(dirname "$0")/.."
: "${VRUN:?VRUN must name the vrun binary}"
: "${B:=$PWD/build}"
export VRUN O B
export VRUN_TEST_TOP="$PWD"
# Tests must not see a parent vrun's flags or the user's module path.
unset VRUNFLAGS MAKEFLAGS MFLAGS MAKELEVEL MAKE_TERMOUT MAKE_TERMERR VRUN_MODULE_PATH GITHUB_TOKEN || true
if [ $# -gt 0 ]; then
  exec prove --exec '' "$@"
fi
files=()
for f in "$B"/tests/unit/test_*; do [ -x "$f" ] && files+=("$f"); done
for f in tests/cli/*.t tests/*/*.t; do [ -f "$f" ] && files+=("$f"); done
# Each file is independent (own temp dir, own ports); two at a time fits the
# 2-core machines CI runs on.
exec prove --exec '' -j "${TEST_JOBS:-2}" "${files[@]}"
