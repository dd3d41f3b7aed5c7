#!/usr/bin/env bash
# modules.sh: module load overhead and upload throughput.
#  1. a run requiring the good test module vs a run requiring none
#     (target: at most 1 ms more);
#  2. uploading 1 GiB to a local sink: vrun vs curl in the same run
#     (targets: >= 0.9x curl's throughput, vrun peak RSS <= 32 MiB).
# Run from the top of the tree after `make tests-build` (it needs the test
# modules): VRUN=$PWD/vrun bench/modules.sh, or via `make bench`.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
: "${VRUN:=$PWD/vrun}"
O=$(cd "$(dirname "$VRUN")" && pwd)
B=${B:-$( [ "$O" = "$PWD" ] && echo "$PWD/build" || echo "$O/build")}
MODS=$B/tests/modules
if [ ! -f "$MODS/good.so" ]; then
  make -s O="$O" tests-build >/dev/null
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/vrun-bench.XXXXXX")
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; rm -rf "$W"' EXIT

echo "== module load overhead"
cat > "$W/none.lua" <<'EOF2'
task "t" { run = function() end }
EOF2
cat > "$W/one.lua" <<'EOF2'
require "good"
task "t" { run = function() end }
EOF2
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 20 -r 300 --export-json "$W/load.json" \
    -n none "$VRUN -s -f $W/none.lua t" \
    -n good "$VRUN -s -M $MODS -f $W/one.lua t" >/dev/null 2>&1
  python3 - "$W/load.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
# medians: other work on the machine skews the means
n, g = r["none"]["median"] * 1e3, r["good"]["median"] * 1e3
for k, v in (("no module:  ", r["none"]), ("good module:", r["good"])):
    print(f"{k} median {v['median']*1e3:.3f} ms, mean {v['mean']*1e3:.3f}"
          f" +- {v['stddev']*1e3:.3f} ms")
print(f"overhead of loading one module: {g - n:.3f} ms (median; target <= 1 ms)")
PY
else
  echo "hyperfine not found: skipped"
fi

echo "== 1 GiB upload to a local sink"
truncate -s 1G "$W/big.bin"
python3 bench/sink.py --port-file "$W/port" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$W/port")/sink"
cat > "$W/up.lua" <<'EOF2'
task "up" { run = function()
  local r = require("good").http{ method = "POST", url = os.getenv("URL"),
                                  body_file = os.getenv("FILE") }
  if r.status ~= 204 then error("upload failed: " .. r.status .. r.error) end
end }
EOF2
now() { date +%s.%N; }
wall() {  # wall time of "$@", output discarded
  local s e
  s=$(now); "$@" >/dev/null 2>&1; e=$(now)
  echo "$e - $s" | bc -l
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }
export URL FILE="$W/big.bin"
# curl --data-binary @file reads the whole file into memory first and
# refuses files of 1 GiB or more; -T streams it.
if curl -s -o /dev/null -H 'Expect:' --data-binary @"$W/big.bin" "$URL" 2>/dev/null; then
  how="curl --data-binary @file"
  curlcmd=(curl -s -o /dev/null -H 'Expect:' --data-binary @"$W/big.bin" "$URL")
else
  how="curl -T file -X POST (curl --data-binary @file refuses a 1 GiB file)"
  curlcmd=(curl -s -o /dev/null -H 'Expect:' -X POST -T "$W/big.bin" "$URL")
fi
# Best of 5, interleaved, so a burst of other work hits both alike.
tv= tc=
for _ in 1 2 3 4 5; do
  t=$(wall "$VRUN" -s -M "$MODS" -f "$W/up.lua" up)
  if [ -z "$tv" ] || lt "$t" "$tv"; then tv=$t; fi
  t=$(wall "${curlcmd[@]}")
  if [ -z "$tc" ] || lt "$t" "$tc"; then tc=$t; fi
done
rss=$(/usr/bin/time -f '%M' "$VRUN" -s -M "$MODS" -f "$W/up.lua" up 2>&1 >/dev/null | tail -1)
echo "vrun: $(echo "1024 / $tv" | bc -l | xargs printf '%.0f') MiB/s (${tv}s)"
echo "curl: $(echo "1024 / $tc" | bc -l | xargs printf '%.0f') MiB/s (${tc}s) [$how]"
echo "throughput ratio vrun/curl: $(echo "$tc / $tv" | bc -l | xargs printf '%.2f') (target >= 0.9)"
echo "vrun peak RSS: $((rss / 1024)) MiB (${rss} KiB; target <= 32 MiB)"
