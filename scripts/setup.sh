#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: Debian packages, npm dependencies, build.
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# liblua5.3-0: the scripting runtime. lua5.3: the peer in the dump() benchmark.
# bpftool: counts kernel objects in tests. bpftrace: the peer in the throughput benchmark.
# jq: json output is checked with it. iproute2/nftables: namespaces and marking in kernel tests.
# iputils-ping: `ping -m` marks packets in documented examples and tests.
# libpcap0.8: packet filters in tcpdump's language are compiled by libpcap.
# tshark: the independent reader of the pcapng files ipft writes (tests and benchmark).
for p in liblua5.3-0 libpcap0.8 lua5.3 bpftool bpftrace jq iproute2 nftables util-linux iputils-ping tshark; do
  have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${need[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark's wireshark-common asks whether non-root users may capture: answer no, never prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.ipft-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
rm -rf dist  # a moved or deleted source must not leave its old build (and tests) behind
npx tsc -p tsconfig.json

# tracefs is where kernels list traceable functions; mount it if nothing has.
if [ "$(id -u)" -eq 0 ] && [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
