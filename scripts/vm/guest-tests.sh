#!/bin/sh
# Runs inside the test VM (see scripts/vm/run.sh): the kernel test suite once per backend this kernel has
# (as `ipft --features` says; a backend it lacks is skipped with the reason), then a summary.
#   IPFT_VM_TESTS: the test files to run, relative to dist/test/kernel/ (e.g. "verdict.test.js trace.test.js");
#                  default: all of them
#   IPFT_VM_BACKENDS: the backends to run (those this kernel lacks are still skipped); default: all four
#   IPFT_VM_TIMING: the function backends whose attach time to every skb function is measured
#                   ("none" for none); default: every function backend this kernel has (of those it runs)
cd "$(dirname "$0")/../.."
ip link set lo up 2>/dev/null || busybox ip link set lo up
# veth and nftables for the tests across namespaces, NAT for the router tests' masquerade and the identity
# test's DNAT and redirect, VXLAN for its tunnel (modules of this kernel, from the setup's cache: the
# kernel cannot load them on demand from the host's /lib/modules);
# namespaces are named in a tmpfs of the guest's own, not in the host's /run.
modprobe -d "$PWD/.cache/vm/${IPFT_VM_KERNEL:-6.12}/modules" -a veth nf_tables nft_chain_nat nft_masq nft_nat nft_redir vxlan 2>&1 | head -3
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns
echo "== ipft --features (kernel $(uname -r))"
features=$(node bin/ipft.js --features 2>&1)
echo "$features"
tests=dist/test/kernel/
if [ -n "${IPFT_VM_TESTS:-}" ]; then
  tests=""
  for f in $IPFT_VM_TESTS; do tests="$tests dist/test/kernel/$f"; done
fi
fail=0
summary=""
working=""
for b in ${IPFT_VM_BACKENDS:-kprobe kprobe-multi ftrace tracepoint}; do
  # A line of --features: "NAME  yes|no  why".
  line=$(echo "$features" | awk -v b="$b" '$1 == b { print; exit }')
  if [ "$(echo "$line" | awk '{ print $2 }')" != yes ]; then
    why=$(echo "$line" | sed -e "s/^$b *no *//")
    summary="$summary
backend $b: skip (${why:-not in ipft --features})"
    continue
  fi
  [ "$b" = tracepoint ] || working="$working $b"
  echo "== backend $b"
  start=$(date +%s)
  # shellcheck disable=SC2086 # $tests is a list of paths
  if IPFT_TEST_BACKEND=$b node --test --test-concurrency=1 $tests 2>&1; then r=pass; else r=FAIL; fail=1; fi
  summary="$summary
backend $b: $r ($(( $(date +%s) - start )) s)"
done
# Only backends this kernel has (a job of a backend it lacks measures nothing).
timing=""
for b in ${IPFT_VM_TIMING:-$working}; do
  case " $working " in *" $b "*) timing="$timing $b" ;; esac
done
if [ -n "$timing" ]; then
  echo "== attach time, every skb function (-v)"
  for b in $timing; do
    printf '%s: ' "$b"
    node bin/ipft.js -v -b "$b" -m 1 -- true 2>&1 | grep -E '^ipft: (attached|attach |[0-9]+ functions are on)' || echo "no timing (failed)"
  done
fi
echo "== summary (kernel $(uname -r))$summary"
exit $fail
