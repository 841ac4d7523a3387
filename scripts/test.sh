#!/usr/bin/env bash
# The project's test command: set up, lint, type-check, then run every test under node's test runner.
# Usage: scripts/test.sh [unit]   (unit: skip kernel and VM tests)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx biome check src test bench
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "${1:-}" = unit ]; then
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v -e '/kernel/' -e '/robustness/' -e '/vm/')
fi
node --test --test-concurrency=1 "${files[@]}"
