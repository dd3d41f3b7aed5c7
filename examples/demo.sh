#!/usr/bin/env bash
# demo.sh: what `make demo` runs. Builds and tests examples/hello with
# vrun in a temporary copy, so the source tree stays clean.
# SPDX-License-Identifier: MIT
set -euo pipefail
: "${VRUN:?set VRUN to the vrun binary (make demo does)}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vrun-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/hello" "$work/"
cd "$work/hello"
step() { printf '\n== %s\n' "$*"; "$@"; }
step "$VRUN" --list
step "$VRUN"                    # default goal: build
step "$VRUN"                    # up to date now: nothing runs
step "$VRUN" -q build && echo "(-q: up to date)"
step "$VRUN" test
step "$VRUN" -n -B build VERSION=1.0.0
step "$VRUN" -B test VERSION=1.0.0
step ./bin/hello --version
step "$VRUN" clean
printf '\ndemo: ok\n'
