#!/usr/bin/env bash
# Install the Debian packages vrun needs to build and test (.ci/packages.txt).
# Run as root or through sudo; only missing packages are installed.
set -eu
cd "$(dirname "$0")"
pkgs=$(grep -v '^#' .ci/packages.txt)
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null \
  | awk '$NF == "installed" {print $1}' | sort > /tmp/vrun-have.$$; \
  for p in $pkgs; do grep -qx "$p" /tmp/vrun-have.$$ || echo "$p"; done; rm -f /tmp/vrun-have.$$)
if [ -n "$missing" ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi
