// One map helper call on keys and values kept on the program's stack: R1 = the map, R2 = R10 + key's
// offset, and for an update R3 = R10 + value's offset, R4 = flags. R0 = the helper's result.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R4, R10 } from "../asm/opcodes.js";
import { Helper } from "../sys/bpf-abi.js";

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;

function keyed(fd: number, keyAt: number): Insn[] {
  return [asm.ldMapFd(R1, fd), asm.mov64Reg(R2, R10), asm.alu64Imm(asm.ADD, R2, keyAt)];
}

export const mapLookup = (fd: number, keyAt: number): Insn[] => [
  ...keyed(fd, keyAt),
  asm.call(Helper.map_lookup_elem),
];

export const mapDelete = (fd: number, keyAt: number): Insn[] => [
  ...keyed(fd, keyAt),
  asm.call(Helper.map_delete_elem),
];

export const mapUpdate = (fd: number, keyAt: number, valueAt: number, flags = BPF_ANY): Insn[] => [
  ...keyed(fd, keyAt),
  asm.mov64Reg(R3, R10),
  asm.alu64Imm(asm.ADD, R3, valueAt),
  asm.mov64Imm(R4, flags),
  asm.call(Helper.map_update_elem),
];

/** counters[idx] += 1 in a per-CPU array (this CPU's slot: no atomic needed), the index at R10 + keyAt; a
 * missing slot jumps to `done`. */
export const countPerCpu = (fd: number, keyAt: number, idx: number, done: string): Insn[] => [
  asm.stMem(asm.W, R10, keyAt, idx),
  ...mapLookup(fd, keyAt),
  asm.jmpImm(asm.JEQ, R0, 0, done),
  asm.ldxMem(asm.DW, R1, R0, 0),
  asm.alu64Imm(asm.ADD, R1, 1),
  asm.stxMem(asm.DW, R0, R1, 0),
];
