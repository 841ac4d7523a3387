# The kernel test files each VM job runs (sourced by scripts/test-vm.sh). The host runs every kernel test on its
# own kernel with the tracepoint backend; the guests prove what the host cannot:
#   - each function backend (kprobe, kprobe-multi, ftrace), on the files whose tests depend on the backend
#     (attach, verdicts, tracking and clones, the register ABI, captures and scripts, module functions, the
#     README's example); their tests that do not depend on it skip there (onePassSkipReason in
#     test/support/run.ts);
#   - each kernel's differences (drop reasons and tracepoint layouts, BTF layouts, the verifier, module BTF),
#     on the files where kernels differ, on every backend of 6.1 and in 6.12's tracepoint run; tests that
#     depend on neither the backend nor the kernel skip in the guests (hostOnlySkipReason in
#     test/support/run.ts). docs/capture.md's examples go to the verifier of the oldest kernel, 6.1, only
#     (the host's is the newest).
# The full matrix (`npm run test:vm:full`, IPFT_VM_MATRIX=full) runs every kernel test file on every backend of
# every kernel.

# Files whose tests depend on the backend.
VM_BACKEND_FILES="trace.test.js verdict.test.js selection.test.js clone.test.js register-abi.test.js
script.test.js capture.test.js extras.test.js module-function.test.js readme.test.js pcapng-devices.test.js
gen-program.test.js router.test.js identity.test.js"
# Files where kernels differ.
VM_KERNEL_FILES="verdict.test.js trace.test.js capture.test.js script.test.js register-abi.test.js
selection.test.js extras.test.js module-function.test.js module-btf.test.js router.test.js explain.test.js
nft-trace.test.js"

# vm_tests MATRIX KERNEL BACKEND: the files (names under dist/test/kernel/ that exist), one line; empty: all.
vm_tests() {
  local matrix=$1 kernel=$2 backend=$3 list f out=""
  [ "$matrix" = full ] && return 0
  if [ "$kernel" = 6.12 ] && [ "$backend" != tracepoint ]; then list=$VM_BACKEND_FILES; else list=$VM_KERNEL_FILES; fi
  [ "$kernel" = 6.1 ] && list="$list capture-docs.test.js"
  for f in $list; do [ -f "dist/test/kernel/$f" ] && out="$out $f"; done
  echo "${out# }"
}

# vm_order KERNEL BACKEND: where the job starts (higher first). Each job's guest seconds in CI's matrix on a
# quiet 2-core machine (two guests at once) were: 6.1 tracepoint 699, 6.12 ftrace 444, 6.1 ftrace 406,
# 6.12 tracepoint 367, 6.12 kprobe 344, 6.12 kprobe-multi 326, 6.1 kprobe 271, 6.1 kprobe-multi 9 (a
# skip). Longest first, each to the next free guest: by those times the guests end at about 1465 and 1400 s
# of tests (the order before: 1510). Measured, the VM stage took 1559 s with this order and 1553 s with the
# one before: each job's own time varies more than the order saves.
# A job not listed starts first.
vm_order() {
  case "$1 $2" in
    "6.1 tracepoint") echo 8 ;;
    "6.12 ftrace") echo 7 ;;
    "6.1 ftrace") echo 6 ;;
    "6.12 tracepoint") echo 5 ;;
    "6.12 kprobe") echo 4 ;;
    "6.12 kprobe-multi") echo 3 ;;
    "6.1 kprobe") echo 2 ;;
    "6.1 kprobe-multi") echo 1 ;;
    *) echo 9 ;;
  esac
}
