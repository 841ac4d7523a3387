// Placeholder until the disassembler lands.
import type { Insn } from "./insn.js";

export function disasm(i: Insn, _helperName?: (id: number) => string | undefined): string {
  return `code 0x${i.code.toString(16)}`;
}

export function disasmProgram(insns: Insn[], helperName?: (id: number) => string | undefined): string[] {
  return insns.map((i, k) => `${k}: ${disasm(i, helperName)}`);
}
