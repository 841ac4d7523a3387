#!/usr/bin/env bash
# Every benchmark, each next to its peer measured in the same run. Results are printed as tables and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# iperf3: the flood in drops-flood (only the benchmarks need it, so it is installed here, not in setup.sh).
if ! command -v iperf3 >/dev/null && [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iperf3 >/dev/null ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iperf3 >/dev/null; } ||
    echo "bench: iperf3 could not be installed; drops-flood will skip" >&2
fi
for b in btf-bench dump-bench capture-bench memory-bench pcapng-out-bench throughput startup verdict-cost extras-bench selection-bench drops-hold drops-flood; do
  f=dist/bench/$b.js
  [ -f "$f" ] || { echo "== $b: not built"; continue; }
  echo "== $b"
  node --expose-gc "$f" "$@"
done
