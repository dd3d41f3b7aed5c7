#!/usr/bin/env bash
# docs/modules.md documents every host service and every status code of
# core/vrun_module.h (a new one without a line there fails this test).
. "$(dirname "$0")/../lib/tap.sh"
H=$TOP/core/vrun_module.h
D=$TOP/docs/modules.md
services=$(sed -n '/^struct vrun_host {/,/^};/p' "$H" |
  grep -oE '\(\*[a-z_0-9]+\)' | tr -d '(*)')
n=0
for s in $services; do
  n=$((n + 1))
  grep -q "\`$s" "$D"
  ok $? "service $s is documented"
done
test "$n" -ge 20; ok $? "found the services in the header ($n)"
codes=$(sed -n '/^enum vrun_status {/,/^};/p' "$H" | grep -oE 'VRUN_[A-Z]+ =' |
  cut -d' ' -f1)
for c in $codes; do
  grep -q "\`$c\`" "$D"
  ok $? "status $c is documented"
done
done_testing
