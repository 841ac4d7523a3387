// What goes into the record's function field, and the instructions that compute it: the main program
// writes it into the record, the tracking code into the tracking map (where a packet was last seen).
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R6 } from "../asm/opcodes.js";
import { Helper } from "../sys/bpf-abi.js";

export type FuncSource =
  | { kind: "const"; value: bigint } // tracepoints: an id ipft chose
  | { kind: "get_func_ip" } // kprobe-multi, fentry/fexit, kprobe on newer kernels
  | { kind: "regs_ip"; offset: number }; // kprobe: the IP after the breakpoint (function + 1)

/** The function's address (or id) into `dst` (R1 or R0); R6 = ctx. Clobbers R0-R5 for get_func_ip. */
export function emitFunc(func: FuncSource, dst: typeof R0 | typeof R1): Insn[] {
  switch (func.kind) {
    case "const":
      return [asm.ldImm64(dst, func.value)];
    case "get_func_ip":
      return [
        asm.mov64Reg(R1, R6),
        asm.call(Helper.get_func_ip),
        ...(dst === R0 ? [] : [asm.mov64Reg(dst, R0)]),
      ];
    case "regs_ip":
      return [asm.ldxMem(asm.DW, dst, R6, func.offset), asm.alu64Imm(asm.ADD, dst, -1)];
  }
}
