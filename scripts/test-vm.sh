#!/usr/bin/env bash
# Proves the backends this machine's kernel lacks, on two kernels: boots each Debian kernel (6.12, which has
# kprobes, fprobe and fentry, and Debian 12's own 6.1) under qemu, one after the other, and runs the kernel
# test suite inside once per backend that kernel has. Prints a summary per kernel and backend.
#   IPFT_VM_KERNELS: the kernels, default "6.12 6.1"
# 6.12 runs the whole kernel suite per backend; 6.1 the files where kernels differ (see below).
#   IPFT_VM_TESTS, IPFT_VM_TIMING, IPFT_VM_TIMEOUT: see scripts/vm/guest-tests.sh and scripts/vm/run.sh
# The attach timing of every skb function runs on 6.12's function backends only: 6.1 has no kprobe-multi,
# and attaching then detaching its 1559 kprobes one by one takes about 3 minutes under TCG
# (IPFT_VM_TIMING=kprobe measures it there; it overrides the choice for every kernel).
# Exit 0 when every kernel passed (or could not be run: its SKIP line says why), 1 when a kernel failed,
# 77 when no kernel could be run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet || exit $?  # the guest runs this tree's build and needs its Debian packages (Lua)
kernels=${IPFT_VM_KERNELS:-6.12 6.1}
summary=""
fail=0
ran=0
for k in $kernels; do
  echo "=== kernel $k"
  start=$(date +%s)
  out=$(bash scripts/vm/setup.sh "$k")
  s=$?
  echo "$out"
  if [ $s -eq 77 ]; then
    summary="$summary
kernel $k: skip (${out#SKIP: })"
    continue
  fi
  if [ $s -ne 0 ]; then
    summary="$summary
kernel $k: FAIL (setup exited $s)"
    fail=1
    continue
  fi
  log=$(mktemp)
  timing=${IPFT_VM_TIMING-}
  [ -z "${IPFT_VM_TIMING+set}" ] && [ "$k" = 6.1 ] && timing=none
  # 6.1: the test files where kernels differ (verdicts, capture, scripts, selection, extras, module
  # functions), so both kernels fit in CI's time; IPFT_VM_TESTS (set, even empty) overrides.
  tests=${IPFT_VM_TESTS-}
  [ -z "${IPFT_VM_TESTS+set}" ] && [ "$k" = 6.1 ] &&
    tests="verdict.test.js trace.test.js capture.test.js script.test.js register-abi.test.js selection.test.js extras.test.js module-function.test.js"
  # Under TCG the guest kernel can oops on its own code patching (an int3 left in patched text, as when a
  # tracepoint's static key flips while another CPU runs through it): a guest that died that way, with no
  # exit status, is run once more. A test failure is not retried.
  for attempt in 1 2; do
    if [ -n "$timing" ]; then
      IPFT_VM_KERNEL=$k IPFT_VM_TIMING=$timing IPFT_VM_TESTS=$tests bash scripts/vm/run.sh sh scripts/vm/guest-tests.sh | tee "$log"
    else
      IPFT_VM_KERNEL=$k IPFT_VM_TESTS=$tests bash scripts/vm/run.sh sh scripts/vm/guest-tests.sh | tee "$log"
    fi
    s=${PIPESTATUS[0]}
    if [ "$attempt" = 1 ] && grep -q '^VM: no exit status' "$log" && grep -aq 'Oops: int3' ".cache/vm/$k/console.log"; then
      echo "VM: kernel $k's guest oopsed on an int3 in patched code (qemu TCG): running it once more"
      continue
    fi
    break
  done
  pkg=$(cat ".cache/vm/$k/kernel-package" 2>/dev/null)
  if [ $s -eq 77 ]; then
    summary="$summary
kernel $k: skip ($(sed -n 's/^SKIP: //p' "$log" | tail -1))"
  else
    ran=1
    if [ $s -eq 0 ]; then r=pass; else r=FAIL; fail=1; fi
    summary="$summary
kernel $k ($pkg): $r ($(( $(date +%s) - start )) s)
$(sed -n '/^== summary/,$p' "$log" | grep '^backend ' | sed 's/^/  /')"
  fi
  rm -f "$log"
done
echo "=== summary$summary"
[ $fail -ne 0 ] && exit 1
[ $ran -eq 0 ] && exit 77
exit 0
