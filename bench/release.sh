#!/usr/bin/env bash
# bench/release.sh: vrun's release packing vs the original's tar + sha256sum.
# SPDX-License-Identifier: MIT
#
#   VRUN=./vrun bench/release.sh        (make bench runs it)
#
# 1. A release set: 9 platforms x 2 archives of ~30 MiB of binary data
#    (slices of this machine's shared libraries: semi-compressible, like
#    Go binaries). vrun `release` (packing on worker threads, hashing in
#    the same pass) against the original recipe run one archive after
#    another: `tar --owner=1000 --group=1000 --transform ... -czf` then
#    `sha256sum ... | sed`, as in the VictoriaMetrics Makefile. Both use
#    gzip level 6. Target: >= 1.8x.
# 2. SHA-256 of a 1 GiB file: `archive.sha256` (the host's OpenSSL
#    service) against `sha256sum`. Target: >= 2x.
# Best of RUNS (default 3) for each side, files in the page cache. The
# speed-up needs the cores free: CPU seconds are printed too, so a run on
# a busy machine still shows whether the work done is the same.
set -eu
: "${VRUN:?set VRUN to the vrun binary}"
RUNS=${RUNS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/vrun-bench-release.XXXXXX")
trap 'rm -rf "$W"' EXIT
PLATS="linux/amd64 linux/arm64 linux/arm linux/386 darwin/amd64
darwin/arm64 freebsd/amd64 openbsd/amd64 windows/amd64"
MIB=$((1024 * 1024))

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Semi-compressible data: the largest shared libraries, concatenated.
src="$W/src.bin"
find /usr/lib /usr/lib64 -xdev -type f -name '*.so*' -size +1M \
  2>/dev/null | head -200 | xargs cat 2>/dev/null |
  head -c $((64 * MIB)) > "$src" || true
if [ "$(stat -c %s "$src")" -lt $((64 * MIB)) ]; then
  head -c $((64 * MIB)) /dev/urandom > "$src"
fi

mkdir -p "$W/data" "$W/proj"
# Each binary is a different slice, so no two archives are the same.
n=0
mk() {  # mk NAME SIZE_MIB
  n=$((n + 1))
  dd if="$src" of="$W/data/$1" bs=$MIB skip=$((n % 30)) count="$2" \
    status=none
}
for p in $PLATS; do
  os=${p%/*}; arch=${p#*/}; ext=; [ "$os" = windows ] && ext=.exe
  mk "app-$os-$arch-prod$ext" 30
  for u in tool1 tool2 tool3; do mk "$u-$os-$arch-prod$ext" 10; done
done

cat > "$W/proj/vrun.lua" <<EOF
project {
  name = "app",
  platforms = { $(printf '"%s", ' $PLATS) },
  build = "true",
  archives = {
    { name = "app", binaries = { "app" } },
    { name = "utils", binaries = { "tool1", "tool2", "tool3" } },
  },
}
include "release"
task "sum" {
  modules = { "archive" },
  run = function() io.write(require("archive").sha256(var.FILE), "\n") end,
}
EOF

fill_bin() {  # fresh raw binaries (hard links: release deletes them)
  rm -rf "$W/proj/bin"; mkdir -p "$W/proj/bin"
  ln "$W/data/"* "$W/proj/bin/"
}

original() {  # the make recipes, one archive after another
  local p os arch tag=v1.0.0
  cd "$W/proj/bin"
  for p in $PLATS; do
    os=${p%/*}; arch=${p#*/}
    if [ "$os" = windows ]; then
      zip -q -6 "app-$os-$arch-$tag.zip" "app-$os-$arch-prod.exe"
      sha256sum "app-$os-$arch-$tag.zip" "app-$os-$arch-prod.exe" \
        > "app-$os-$arch-${tag}_checksums.txt"
      zip -q -6 "utils-$os-$arch-$tag.zip" tool{1,2,3}-$os-$arch-prod.exe
      sha256sum "utils-$os-$arch-$tag.zip" tool{1,2,3}-$os-$arch-prod.exe \
        > "utils-$os-$arch-${tag}_checksums.txt"
      continue
    fi
    tar --owner=1000 --group=1000 \
      --transform="flags=r;s|-$os-$arch||" \
      -czf "app-$os-$arch-$tag.tar.gz" "app-$os-$arch-prod"
    sha256sum "app-$os-$arch-$tag.tar.gz" "app-$os-$arch-prod" |
      sed "s/-$os-$arch-prod/-prod/" > "app-$os-$arch-${tag}_checksums.txt"
    tar --owner=1000 --group=1000 \
      --transform="flags=r;s|-$os-$arch||" \
      -czf "utils-$os-$arch-$tag.tar.gz" tool{1,2,3}-$os-$arch-prod
    sha256sum "utils-$os-$arch-$tag.tar.gz" tool{1,2,3}-$os-$arch-prod |
      sed "s/-$os-$arch-prod/-prod/" > "utils-$os-$arch-${tag}_checksums.txt"
  done
  cd - >/dev/null
}

best() { awk 'NR == 1 || $1 < m { m = $1 } END { printf "%.3f", m }'; }
# CPU seconds (user + sys, children included) of the fastest run
cpu() { awk 'NR == 1 || $1 < m { m = $1; c = $2 + $3 } END { printf "%.1f", c }'; }
TIMEFORMAT='%R %U %S'   # bash's `time`: wall, user, sys

cat "$W/data/"* > /dev/null   # warm the page cache
: > "$W/t.orig"; : > "$W/t.vrun"
for i in $(seq 1 "$RUNS"); do
  fill_bin
  { time original; } 2>> "$W/t.orig"
  fill_bin
  { time (cd "$W/proj" &&
          "$VRUN" -s release PKG_TAG=v1.0.0 SOURCE_DATE_EPOCH=1); } \
    2>> "$W/t.vrun"
done
n_arch=$(ls "$W/proj/bin/" | grep -c -E '\.(tar\.gz|zip)$')
mib=$(du -cm "$W/data" | tail -1 | cut -f1)
o=$(best < "$W/t.orig"); v=$(best < "$W/t.vrun")
echo "release set: $n_arch archives, $mib MiB of binaries, gzip level 6"
echo "  original (tar czf + sha256sum, serial): ${o}s" \
     "(CPU $(cpu < "$W/t.orig")s)"
echo "  vrun release ($(nproc) cores):          ${v}s" \
     "(CPU $(cpu < "$W/t.vrun")s)"
echo "  speed-up: $(ratio "$o" "$v")x" \
     "(target >= 1.8x)"

# 2. SHA-256 of a 1 GiB file
big="$W/big.bin"
for i in $(seq 1 16); do cat "$src"; done > "$big"
cat "$big" > /dev/null
: > "$W/s.orig"; : > "$W/s.vrun"
for i in $(seq 1 "$RUNS"); do
  t0=$(now); sha256sum "$big" > "$W/s1"; t1=$(now)
  sub "$t0" "$t1" >> "$W/s.orig"
  t0=$(now); (cd "$W/proj" && "$VRUN" -s sum FILE="$big" > "$W/s2"); t1=$(now)
  sub "$t0" "$t1" >> "$W/s.vrun"
done
if [ "$(cut -d' ' -f1 "$W/s1")" != "$(cat "$W/s2")" ]; then
  echo "sha256 mismatch: $(cat "$W/s1") vs $(cat "$W/s2")" >&2
  exit 1
fi
o=$(best < "$W/s.orig"); v=$(best < "$W/s.vrun")
echo "sha256 of 1 GiB:"
echo "  sha256sum:      ${o}s"
echo "  archive.sha256: ${v}s"
echo "  speed-up: $(ratio "$o" "$v")x" \
     "(target >= 2x)"
