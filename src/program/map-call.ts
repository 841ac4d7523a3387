// One map helper call on keys and values kept on the program's stack: R1 = the map, R2 = R10 + key's
// offset, and for an update R3 = R10 + value's offset, R4 = flags. R0 = the helper's result.
import { asm, type Insn } from "../asm/index.js";
import { R1, R2, R3, R4, R10 } from "../asm/opcodes.js";
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
