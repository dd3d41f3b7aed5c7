#!/usr/bin/env bash
# core.sh: vrun against GNU make on the same work, with ratios.
#   (a) one trivial task
#   (b) 10,000 tasks, each depending on two earlier ones, with -n
#   (c) 1,000 tasks each running a small shell command, at -j1 and -j2
# Times: hyperfine when installed (best run, and mean CPU), else the best
# of a few runs timed with date +%s.%N. Peak RSS: /usr/bin/time -f %M,
# best of 3.
# SPDX-License-Identifier: MIT
set -eu
: "${VRUN:?set VRUN to the vrun binary}"
RUNS=${BENCH_RUNS:-30}   # for (a); (b) and (c) take longer: fewer
work=$(mktemp -d "${TMPDIR:-/tmp}/vrun-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- the inputs ---------------------------------------------------------
printf 'task "hi" { run = function() end }\n' > a.lua
printf '.PHONY: hi\nhi:\n\t@:\n' > a.mk

# (b): t<i> depends on two random earlier tasks (fixed seed); "all" on
# every task, so all 10,000 are planned. (A chain like t<i-1>, t<i/2>
# makes make itself take seconds; random picks are its good case.)
awk 'BEGIN {
  srand(42); n = 10000
  print "task \"t0\" { run = function() sh \"echo t0\" end }" > "b.lua"
  print "task \"t1\" { run = function() sh \"echo t1\" end }" > "b.lua"
  print "t0:\n\techo t0\nt1:\n\techo t1" > "b.mk"
  for(i = 2; i < n; i++) {
    a = int(rand() * i); b = int(rand() * i)
    printf "task \"t%d\" { deps = { \"t%d\", \"t%d\" }, run = function() sh \"echo t%d\" end }\n", i, a, b, i > "b.lua"
    printf "t%d: t%d t%d\n\techo t%d\n", i, a, b, i > "b.mk"
  }
  printf "task \"all\" { deps = {" > "b.lua"
  printf "all:" > "b.mk"
  for(i = 0; i < n; i++) {
    printf "%s\"t%d\"", (i ? ", " : " "), i > "b.lua"
    printf " t%d", i > "b.mk"
  }
  print " } }" > "b.lua"
  print "" > "b.mk"
}'

awk 'BEGIN {
  n = 1000; deps = ""
  for(i = 0; i < n; i++) {
    printf "task \"j%d\" { run = function() sh \"echo j%d > /dev/null\" end }\n", i, i > "c.lua"
    printf "j%d:\n\techo j%d > /dev/null\n", i, i > "c.mk"
    deps = deps " j" i
  }
  printf "task \"all\" { deps = {" > "c.lua"
  for(i = 0; i < n; i++) printf "%s\"j%d\"", (i ? ", " : " "), i > "c.lua"
  print " } }" > "c.lua"
  print "all:" deps "\n.PHONY: all" deps > "c.mk"
}'

# --- measuring ----------------------------------------------------------
# "WALL CPU" seconds of a command (output discarded; CPU "-" if unknown)
mean() {
  if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" \
      --export-json "$work/h.json" --output null "$1" >/dev/null 2>&1
    # wall clock: the best run (other load on the machine only ever adds
    # time); CPU: mean user + system
    python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.4f %.4f" % (r["min"], r["user"] + r["system"]))' "$work/h.json"
  else
    local best= i s e t
    for i in $(seq 1 "$RUNS"); do
      s=$(date +%s.%N); sh -c "$1" >/dev/null 2>&1; e=$(date +%s.%N)
      t=$(echo "$e - $s" | bc)
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best -"
  fi
}
rss() {  # peak RSS in KiB, best of 3
  local best= i k
  for i in 1 2 3; do
    /usr/bin/time -o "$work/rss" -f %M sh -c "exec $1" >/dev/null 2>&1 || true
    k=$(tail -1 "$work/rss")
    if [ -z "$best" ] || [ "$k" -lt "$best" ]; then best=$k; fi
  done
  echo "$best"
}
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

row() {  # row LABEL VRUN-CMD MAKE-CMD [rss]
  local tv tm cv cm
  read -r tv cv <<<"$(mean "$2")"
  read -r tm cm <<<"$(mean "$3")"
  printf '%-24s vrun %7.4f s  make %7.4f s  ratio %s' "$1" "$tv" "$tm" "$(ratio "$tv" "$tm")"
  if [ "$cv" != - ]; then
    printf '  (CPU %s)' "$(ratio "$cv" "$cm")"
  fi
  if [ "${4:-}" = rss ] && [ -x /usr/bin/time ]; then
    local rv rm
    rv=$(rss "$2"); rm=$(rss "$3")
    printf '   RSS vrun %6d KiB  make %6d KiB  ratio %s' "$rv" "$rm" "$(ratio "$rv" "$rm")"
  fi
  printf '\n'
}

WARMUP=3
echo "vrun: $VRUN ($("$VRUN" --version)), $(make --version | head -1), $(nproc) CPUs, $RUNS runs"
row "(a) one trivial task" "$VRUN -f a.lua hi" "make -f a.mk hi" rss
RUNS=${BENCH_B_RUNS:-10}
row "(b) 10,000 tasks, -n" "$VRUN -n -f b.lua all" "make -n -f b.mk all" rss
RUNS=${BENCH_SLOW_RUNS:-5} WARMUP=1
row "(c) 1,000 commands, -j1" "$VRUN -s -f c.lua all" "make -s -f c.mk all"
row "(c) 1,000 commands, -j2" "$VRUN -s -j2 -f c.lua all" "make -s -j2 -f c.mk all"
echo "targets: (a),(b) ratio <= 1.0 and RSS <= make; (c) -j1 <= 1.1, -j2 < 1.0"
