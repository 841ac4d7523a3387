#!/usr/bin/env bash
# Every benchmark, each next to its peer measured in the same run. Results are printed as tables and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for b in btf-bench dump-bench capture-bench memory-bench pcapng-out-bench throughput startup verdict-cost extras-bench selection-bench; do
  f=dist/bench/$b.js
  [ -f "$f" ] || { echo "== $b: not built"; continue; }
  echo "== $b"
  node --expose-gc "$f" "$@"
done
