#!/usr/bin/env bash
# Proves the backends this machine's kernel lacks, on two kernels: Debian's 6.12 (kprobes, fprobe, fentry) and
# Debian 12's own 6.1, each booted under qemu. One guest per kernel and backend (a job), several at once (one
# per host core, each with one CPU), so a guest that dies costs only its own job. Prints each job's log, then a
# summary per kernel and backend, and the time each took.
#   IPFT_VM_KERNELS: the kernels, default "6.12 6.1"
#   IPFT_VM_BACKENDS: the backends, default all four (a kernel that lacks one says why, as a skip)
#   IPFT_VM_MATRIX: "ci" (default) or "full" (`npm run test:vm:full`): which test files each job runs (see
#                   scripts/vm/matrix.sh); IPFT_VM_TESTS (set, even empty) overrides it for every job
#   IPFT_VM_JOBS: guests at once, default the host's cores; IPFT_VM_SMP: CPUs per guest, default cores / jobs
#   IPFT_VM_TIMING: the function backends whose attach time to every skb function is measured, in their own
#                   job ("none": none); default kprobe-multi (the default backend where it exists), and with the
#                   full matrix every function backend (ftrace's takes minutes under TCG: a trampoline each)
#   IPFT_VM_TIMEOUT: see scripts/vm/run.sh
# Exit 0 when every job passed (or could not be run: its SKIP line says why), 1 when one failed, 77 when no
# kernel could be run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet || exit $?  # the guest runs this tree's build and needs its Debian packages (Lua)
. scripts/vm/matrix.sh
kernels=${IPFT_VM_KERNELS:-6.12 6.1}
backends=${IPFT_VM_BACKENDS:-kprobe kprobe-multi ftrace tracepoint}
matrix=${IPFT_VM_MATRIX:-ci}
if [ "$matrix" = full ]; then timings=${IPFT_VM_TIMING:-kprobe kprobe-multi ftrace}; else timings=${IPFT_VM_TIMING:-kprobe-multi}; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Set each kernel up once, before guests run at once (the set-up writes the kernel's cache).
ready=""
summary=""
fail=0
for k in $kernels; do
  out=$(bash scripts/vm/setup.sh "$k")
  s=$?
  echo "$out"
  if [ $s -eq 77 ]; then
    summary="$summary
kernel $k: skip (${out#SKIP: })"
  elif [ $s -ne 0 ]; then
    fail=1
    summary="$summary
kernel $k: FAIL (setup exited $s)"
  else
    ready="$ready $k"
  fi
done

# KVM where it works (probed by booting a guest that runs `true`), else TCG.
accel=tcg
if [ -w /dev/kvm ] && [ -n "$ready" ]; then
  k=$(echo $ready | awk '{ print $1 }')
  if IPFT_VM_ACCEL=kvm IPFT_VM_JOB=kvm-probe IPFT_VM_TIMEOUT=60 IPFT_VM_BOOTS=1 bash scripts/vm/run.sh true >"$work/kvm" 2>&1; then
    accel=kvm
  fi
  echo "VM: KVM $([ $accel = kvm ] && echo works: guests run under KVM || echo "does not run a guest here ($(grep -m1 -ai -e error -e 'did not boot' "$work/kvm" | cut -c1-120)): guests run under TCG")"
fi

# The jobs, in the order that has the guests finish together (vm_order, from what each took in CI).
jobs=()
while read -r _ k b; do
  if [ -n "${IPFT_VM_TESTS+set}" ]; then tests=$IPFT_VM_TESTS; else tests=$(vm_tests "$matrix" "$k" "$b"); fi
  jobs+=("$k $b $tests")
done < <(for k in $ready; do for b in $backends; do echo "$(vm_order "$k" "$b") $k $b"; done; done | sort -rn -k1,1)
cores=$(nproc)
par=${IPFT_VM_JOBS:-$cores}
[ "$par" -gt ${#jobs[@]} ] && par=${#jobs[@]}
[ "$par" -lt 1 ] && par=1
smp=${IPFT_VM_SMP:-$(( cores / par > 0 ? cores / par : 1 ))}
echo "VM: ${#jobs[@]} jobs ($matrix matrix), $par at a time, $smp CPU(s) each, $accel"

# One job: a guest of kernel K running the backend's tests. A guest that died of an int3 oops in patched kernel
# text (qemu TCG: a static key or a probe flipping while the code runs) is run once more; a test failure is not.
run_job() {
  local k=$1 b=$2 tests=$3 id=$4 log="$work/$4.log" s attempt start
  local timing=none
  case " $timings " in *" $b "*) timing=$b ;; esac
  start=$(date +%s)
  for attempt in 1 2; do
    IPFT_VM_KERNEL=$k IPFT_VM_JOB="job-$id" IPFT_VM_SMP=$smp IPFT_VM_ACCEL=$accel IPFT_VM_BACKENDS=$b \
      IPFT_VM_TESTS=$tests IPFT_VM_TIMING=$timing IPFT_VM_MATRIX=$matrix \
      bash scripts/vm/run.sh sh scripts/vm/guest-tests.sh >"$log" 2>&1
    s=$?
    if [ "$attempt" = 1 ] && grep -q '^VM: no exit status' "$log" &&
      grep -aq 'Oops: int3' ".cache/vm/$k/job-$id.console.log"; then
      echo "oops" >>"$work/$id.oopses"
      cp "$log" "$work/$id.oops.log"
      continue
    fi
    break
  done
  echo "$s $(( $(date +%s) - start ))" >"$work/$id.status"
}

i=0
for j in "${jobs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do sleep 1; done
  read -r k b tests <<<"$j"
  run_job "$k" "$b" "$tests" "$i" &
  i=$((i + 1))
done
wait

ran=0
for k in $ready; do
  pkg=$(cat ".cache/vm/$k/kernel-package" 2>/dev/null)
  ksum=""
  kfail=0
  kran=0
  ktime=0
  i=0
  for j in "${jobs[@]}"; do
    read -r jk b _ <<<"$j"
    if [ "$jk" = "$k" ]; then
      read -r s t <"$work/$i.status"
      echo "=== kernel $k, backend $b ($t s)"
      if [ -f "$work/$i.oopses" ]; then
        echo "VM: the guest oopsed on an int3 in patched kernel text (qemu TCG) and was run once more; its first run:"
        tail -30 "$work/$i.oops.log"
        echo "VM: the second run:"
      fi
      cat "$work/$i.log"
      line=$(sed -n "s/^backend $b: //p" "$work/$i.log" | tail -1)
      ktime=$((ktime + t))
      if [ "$s" -eq 0 ] && [ -n "$line" ]; then
        case "$line" in skip*) ;; *) kran=1 ;; esac
        ksum="$ksum
  backend $b: $line"
      elif [ "$s" -eq 77 ]; then
        ksum="$ksum
  backend $b: skip ($(sed -n 's/^SKIP: //p' "$work/$i.log" | tail -1))"
      else
        kfail=1
        kran=1
        ksum="$ksum
  backend $b: FAIL${line:+ ($line)} (exit $s, $t s)"
      fi
      [ -f "$work/$i.oopses" ] && ksum="$ksum, 1 guest oops (int3, qemu TCG), run again"
    fi
    i=$((i + 1))
  done
  if [ $kran -eq 0 ]; then
    summary="$summary
kernel $k: skip (no backend ran)$ksum"
    continue
  fi
  ran=1
  [ $kfail -ne 0 ] && fail=1
  summary="$summary
kernel $k ($pkg): $([ $kfail -eq 0 ] && echo pass || echo FAIL) ($ktime s of guest time)$ksum"
done
echo "=== summary$summary"
[ $fail -ne 0 ] && exit 1
[ $ran -eq 0 ] && exit 77
exit 0
