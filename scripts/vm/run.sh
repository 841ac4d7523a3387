#!/usr/bin/env bash
# Runs one command inside the test VM and exits with its status. The command runs in this repository,
# as root, with the host's root filesystem (so the host's node and build) and the VM's own kernel.
# Usage: scripts/vm/run.sh COMMAND [ARGS...]
#   IPFT_VM_KERNEL: the guest's kernel, 6.12 (default) or 6.1 (see scripts/vm/setup.sh)
#   IPFT_VM_TIMEOUT: seconds for the whole guest run, default 3600
#   IPFT_VM_SMP: the guest's CPUs, default 2
#   IPFT_VM_ACCEL: tcg (default) or kvm (where /dev/kvm runs a guest: scripts/test-vm.sh probes it)
#   IPFT_VM_BOOTS: boot attempts, default 3
#   IPFT_VM_JOB: a name for this guest's files (command, socket, console log) under .cache/vm/KERNEL/, so that
#                several guests of one kernel can run at once; default "guest"
#   IPFT_VM_KERNEL, IPFT_VM_TESTS, IPFT_VM_BACKENDS, IPFT_VM_TIMING and IPFT_VM_MATRIX are passed on to the
#   command (see guest-tests.sh; the tests read IPFT_VM_MATRIX: test/support/run.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
kernel=${IPFT_VM_KERNEL:-6.12}
bash scripts/vm/setup.sh "$kernel" >/dev/null || exit $?
cache="$repo/.cache/vm/$kernel"

job=${IPFT_VM_JOB:-guest}
cmdfile="$cache/$job.cmd.sh"
{
  echo "cd $(printf %q "$repo")"
  echo "export IPFT_VM_KERNEL=$(printf %q "$kernel")"
  for v in IPFT_VM_TESTS IPFT_VM_BACKENDS IPFT_VM_TIMING IPFT_VM_MATRIX; do
    [ -n "${!v+set}" ] && echo "export $v=$(printf %q "${!v}")"
  done
  printf '%q ' "$@"
  echo
} >"$cmdfile"

sock="$cache/$job.virtiofs.sock"
vfs=""
# (set -e holds in the trap too: a virtiofsd that already exited must not change the exit status)
trap 'if [ -n "$vfs" ]; then kill $vfs 2>/dev/null || true; fi; rm -f "$sock"' EXIT
# virtiofsd serves one guest and exits with it: each boot gets its own.
start_virtiofsd() {
  if [ -n "$vfs" ]; then
    kill $vfs 2>/dev/null || true
    wait $vfs 2>/dev/null || true
  fi
  rm -f "$sock"
  /usr/lib/qemu/virtiofsd --socket-path="$sock" -o source=/ -o cache=always -o sandbox=chroot >"$cache/$job.virtiofsd.log" 2>&1 &
  vfs=$!
  for _ in $(seq 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
  echo "SKIP: virtiofsd did not start: $(tail -1 "$cache/$job.virtiofsd.log")"
  exit 77
}

log="$cache/$job.console.log"
# Under TCG the guest kernel sometimes oopses while booting (int3 from code patching), before it runs
# anything of ours: such a boot is retried, up to 3 times. A failure after the command started is not.
boots=${IPFT_VM_BOOTS:-3}
if [ "${IPFT_VM_ACCEL:-tcg}" = kvm ]; then accel=(-accel kvm -cpu host); else accel=(-accel tcg -cpu max); fi
for attempt in $(seq "$boots"); do
  start_virtiofsd
  set +e
  timeout "${IPFT_VM_TIMEOUT:-3600}" qemu-system-x86_64 "${accel[@]}" -smp "${IPFT_VM_SMP:-2}" -m 2048 \
    -object memory-backend-memfd,id=mem,size=2048M,share=on -numa node,memdev=mem \
    -chardev socket,id=vfs,path="$sock" -device vhost-user-fs-pci,chardev=vfs,tag=hostroot \
    -kernel "$cache/vmlinuz" -initrd "$cache/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 ipft_cmd=$cmdfile" \
    -nographic -no-reboot -nic none 2>&1 | tee "$log" |
    sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/\r//g' | grep --line-buffered -v -e '^VM-EXIT-STATUS:' -e '^\s*$'
  q=${PIPESTATUS[0]}
  set -e
  grep -aq 'VM: running' "$log" && break
  echo "VM: the guest kernel did not boot (attempt $attempt of $boots)"
done
status=$(sed -n 's/^VM-EXIT-STATUS: \([0-9]*\).*/\1/p' "$log" | tail -1)
if [ -z "$status" ]; then
  echo "VM: no exit status (qemu exit $q; timeout or crash); console log: $log"
  exit 1
fi
exit "$status"
