#!/bin/sh
# Runs inside the test VM (see scripts/vm/run.sh): the kernel test suite once per backend, then a summary.
cd "$(dirname "$0")/../.."
ip link set lo up 2>/dev/null || busybox ip link set lo up
# veth and nftables for the capture tests across namespaces (modules of this kernel, from the setup's cache);
# namespaces are named in a tmpfs of the guest's own, not in the host's /run.
modprobe -d "$PWD/.cache/vm/modules" -a veth nf_tables 2>&1 | head -3
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
echo "== ipft --features (kernel $(uname -r))"
node bin/ipft.js --features
fail=0
summary=""
for b in kprobe kprobe-multi ftrace tracepoint; do
  echo "== backend $b"
  start=$(date +%s)
  if IPFT_TEST_BACKEND=$b node --test --test-concurrency=1 dist/test/kernel/ 2>&1; then r=pass; else r=FAIL; fail=1; fi
  summary="$summary
backend $b: $r ($(( $(date +%s) - start )) s)"
done
echo "== attach time, every skb function (-v)"
for b in kprobe kprobe-multi ftrace; do
  printf '%s: ' "$b"
  node bin/ipft.js -v -b "$b" -m 1 -- true 2>&1 | grep -E '^ipft: (attached|attach |[0-9]+ functions are on)' || echo "no timing (failed)"
done
echo "== summary$summary"
exit $fail
