#!/usr/bin/env bash
# The project's test command: set up, lint, type-check, then every test under node's test runner, stage by
# stage, and last the time each stage took and the tests counted over all of them.
# Usage: scripts/test.sh [unit]   (unit: the hermetic tests only)
# Stages (folders of dist/test): unit (hermetic: everything below but these), host (reads this machine: the
# running kernel's BTF, /proc, root, tools such as tshark and npm), kernel (loads and attaches programs),
# robustness (bad input and signals against the real kernel), vm (the kernel tests in qemu guests).
set -uo pipefail
cd "$(dirname "$0")/.."
times=()
failed=()
tap=$(mktemp -d)
trap 'rm -rf "$tap"' EXIT

stage() {
  local name=$1 start s
  shift
  start=$(date +%s)
  echo "=== stage: $name"
  "$@"
  s=$?
  times+=("$(printf '%-11s %5d s%s' "$name" $(($(date +%s) - start)) "$([ $s -eq 0 ] || echo "  (failed, exit $s)")")")
  [ $s -eq 0 ] || failed+=("$name")
  return $s
}

# Node's test runner on some files: spec on a terminal, TAP otherwise, and TAP in a file to count from.
run_tests() {
  local name=$1 shown=tap
  shift
  [ $# -gt 0 ] || { echo "no test files"; return 0; }
  [ -t 1 ] && shown=spec
  node --test --test-concurrency=1 --test-reporter="$shown" --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap/$name.tap" "$@"
}

files() { find "dist/test/$1" -name '*.test.js' 2>/dev/null | sort; }

report() {
  local pass=0 fail=0 skip=0 f n
  for f in "$tap"/*.tap; do
    [ -f "$f" ] || continue
    n=$(sed -n 's/^# pass //p' "$f" | tail -1) && pass=$((pass + ${n:-0}))
    n=$(sed -n 's/^# fail //p' "$f" | tail -1) && fail=$((fail + ${n:-0}))
    n=$(sed -n 's/^# skipped //p' "$f" | tail -1) && skip=$((skip + ${n:-0}))
  done
  echo "=== stage times"
  printf '%s\n' "${times[@]}"
  if [ -f "$tap/vm.tap" ]; then
    echo "=== vm: kernels and backends (guest time; guests run side by side)"
    grep -E '# vm: (kernel |  backend )' "$tap/vm.tap" | sed 's/.*# vm: //'

  fi
  echo "tests: $pass passed, $fail failed, $skip skipped"
}

stage set-up bash scripts/setup.sh || { report; exit 1; }
stage lint npx biome check src test bench
mapfile -t unit < <(find dist/test -name '*.test.js' | sort | grep -v -e '^dist/test/host/' -e '^dist/test/kernel/' -e '^dist/test/robustness/' -e '^dist/test/vm/')
stage unit run_tests unit "${unit[@]}"
if [ "${1:-}" != unit ]; then
  for s in host kernel robustness vm; do
    mapfile -t f < <(files "$s")
    stage "$s" run_tests "$s" "${f[@]}"
  done
fi
report
[ ${#failed[@]} -eq 0 ] || { echo "failed stages: ${failed[*]}"; exit 1; }
