// eBPF instructions: values, builders, encoding, decoding and disassembly.
import * as builders from "./builders.js";
import * as opcodes from "./opcodes.js";

export { disasm, disasmProgram } from "./disasm.js";
export {
  AsmError,
  checkReg,
  decode,
  encode,
  type Insn,
  isJump,
  resolveLabels,
  slotOffsets,
  slots,
} from "./insn.js";
export * as op from "./opcodes.js";

/** Builders and opcode constants under one name: asm.mov64Imm(...), asm.DW, asm.JNE. */
export const asm = { ...opcodes, ...builders };
