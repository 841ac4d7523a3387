#!/usr/bin/env bash
# Proves the backends this machine's kernel lacks: boots a Debian kernel that has kprobes, fprobe and fentry
# under qemu and runs the kernel test suite once per backend inside it. Exit 77 = could not run (SKIP line).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --quiet || exit $?  # the guest runs this tree's build and needs its Debian packages (Lua)
bash scripts/vm/setup.sh || exit $?
exec bash scripts/vm/run.sh sh scripts/vm/guest-tests.sh
