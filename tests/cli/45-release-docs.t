#!/usr/bin/env bash
# Every Lua function the git and archive modules export has its entry in
# docs/modules/<name>.md (a heading or a table row naming it).
. "$(dirname "$0")/../lib/tap.sh"
for m in git archive; do
  fns=$(sed -n 's/^ *{"\([a-z_0-9]*\)", l_[a-z_0-9]*},$/\1/p' \
    "$TOP/modules/$m/$m.c")
  n=0
  for f in $fns; do
    n=$((n + 1))
    grep -Eq "(^#+ |\`)$m\.$f[({\`]" "$TOP/docs/modules/$m.md"
    ok $? "$m.$f is documented in docs/modules/$m.md"
  done
  test "$n" -ge 4
  ok $? "found $m's functions ($n)"
done
done_testing
