// Reading kernel memory into the program's stack with bpf_probe_read(_kernel): the skb is not a trusted
// pointer everywhere, so every field of it (and of its device, socket and namespace) is read this way.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R10 } from "../asm/opcodes.js";

/** Reads `size` bytes at `base` + `off` into the stack at R10 + `at`; a failed read jumps to `fail`. */
export function probeReadInto(
  at: number,
  size: number,
  base: number,
  off: number,
  probeRead: number,
  fail: string,
): Insn[] {
  return [
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, at),
    asm.mov64Imm(R2, size),
    asm.mov64Reg(R3, base),
    asm.alu64Imm(asm.ADD, R3, off),
    asm.call(probeRead),
    asm.jmpImm(asm.JNE, R0, 0, fail),
  ];
}

/** R3 = *(size *)(base + off) through the stack at `at` (a 16-byte read is only stored); a failed read
 * jumps to `fail`. */
export function readVia(
  base: number,
  off: number,
  size: 4 | 8 | 16,
  at: number,
  probeRead: number,
  fail: string,
): Insn[] {
  return [
    ...probeReadInto(at, size, base, off, probeRead, fail),
    ...(size === 16 ? [] : [asm.ldxMem(size === 8 ? asm.DW : asm.W, R3, R10, at)]),
  ];
}

export interface Field {
  off: number;
  size: 2 | 4 | 8;
}

/** Where each field lands on the stack: fields read in as few probe_reads as fit (spans of at most
 * 128 bytes), each span placed at an address with the span's alignment so the loads are aligned. */
export function placeReads(
  fields: Field[],
  area: { start: number; end: number },
): {
  reads: { skbOff: number; size: number; at: number }[];
  slot: Map<number, number>;
} {
  const sorted = [...fields].sort((a, b) => a.off - b.off);
  const reads: { skbOff: number; size: number; at: number }[] = [];
  const slot = new Map<number, number>();
  let next = area.start;
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i]!.off;
    let end = start + sorted[i]!.size;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.off + sorted[j]!.size - start <= 128) {
      end = Math.max(end, sorted[j]!.off + sorted[j]!.size);
      j++;
    }
    // at ≡ start (mod 8): a field aligned in the skb is aligned on the stack.
    const at = next + ((((start - next) % 8) + 8) % 8);
    if (at + (end - start) > area.end)
      throw new Error("placeReads: the skb fields do not fit the stack area");
    reads.push({ skbOff: start, size: end - start, at });
    for (let k = i; k < j; k++) slot.set(sorted[k]!.off, at + sorted[k]!.off - start);
    next = at + (end - start);
    i = j;
  }
  return { reads, slot };
}

/** Every read of a placeReads plan, from `base`; a failed read jumps to `fail`. */
export function readAll(
  reads: { skbOff: number; size: number; at: number }[],
  base: number,
  probeRead: number,
  fail: string,
): Insn[] {
  return reads.flatMap((r) => probeReadInto(r.at, r.size, base, r.skbOff, probeRead, fail));
}
