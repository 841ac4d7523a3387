// The packet access ipft uses: the first bytes of the packet copied once, with bpf_probe_read_kernel,
// into a buffer on the stack; the classic loads become bounds-checked stack loads.
//
//   copyPacket()        R2 = min(avail, bufSize), R3 = src, R1 = R10 + bufOff, call probe_read_kernel;
//                       capLenReg = the bytes copied (0 when the read failed). Clobbers R0-R5 (a call).
//   stackPacketAccess() a load of `size` bytes at offset off is done when off + size <= capLen, from
//                       R10 + bufOff + off (the verifier also sees off + size <= bufSize, a constant);
//                       otherwise the filter rejects the packet, as bpf_filter does past the captured
//                       length. `len` is wireLenReg.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R6, R9, R10 } from "../asm/opcodes.js";
import { FilterTranslateError, type PacketAccess } from "./translate.js";

export interface StackPacket {
  /** Stack offset (negative, from R10) of the buffer's first byte. */
  bufOff: number;
  /** The buffer's size: the most bytes of a packet the filter can see (the rest is "not captured"). */
  bufSize: number;
  /** Holds the captured length (0..bufSize): bytes of the buffer that hold the packet. */
  capLenReg: number;
  /** Holds the packet's length on the wire (classic `len`); may be the same register as capLenReg. */
  wireLenReg: number;
}

function checkBuffer(p: { bufOff: number; bufSize: number }): void {
  if (!Number.isInteger(p.bufSize) || p.bufSize < 4 || p.bufOff > -p.bufSize || p.bufOff < -512)
    throw new FilterTranslateError(
      `packet buffer at ${p.bufOff} of ${p.bufSize} bytes is not inside the stack`,
    );
}

/** Loads from the stack buffer copyPacket() filled. capLenReg and wireLenReg must not be R0-R3. */
export function stackPacketAccess(p: StackPacket): PacketAccess {
  checkBuffer(p);
  for (const r of [p.capLenReg, p.wireLenReg])
    if (r <= R3 || r >= R10)
      throw new FilterTranslateError(
        `packet length register r${r} would be clobbered by the filter (use r4-r9)`,
      );
  return {
    load(dst, size, at, fail, [t, ptr]) {
      // An offset past the buffer can never be read; k is a u32, so compare before any arithmetic.
      if (at.k > p.bufSize - size) return [asm.ja(fail)];
      if (at.x === undefined)
        return [
          asm.jmpImm(asm.JLT, p.capLenReg, at.k + size, fail),
          ...bigEndian(dst, R10, p.bufOff + at.k, size, true, t),
        ];
      // t = X + k + size (X is a u32: no overflow in 64 bits); checked against the captured length at run
      // time and against the buffer's size for the verifier, which then allows the variable stack offset.
      // Its alignment is unknown, so the bytes are read one by one.
      return [
        asm.mov32Reg(t, at.x),
        asm.alu64Imm(asm.ADD, t, at.k + size),
        asm.jmpReg(asm.JGT, t, p.capLenReg, fail),
        asm.jmpImm(asm.JGT, t, p.bufSize, fail),
        asm.mov64Reg(ptr, R10),
        asm.alu64Reg(asm.ADD, ptr, t),
        ...bigEndian(dst, ptr, p.bufOff - size, size, false, t),
      ];
    },
    wireLen(dst) {
      return [asm.mov32Reg(dst, p.wireLenReg)];
    },
  };
}

const SIZES = { 1: asm.B, 2: asm.H, 4: asm.W } as const;

/**
 * dst = the big-endian number in the `size` bytes at base + off. The verifier refuses a misaligned stack
 * load, so the bytes are read in the largest pieces their alignment allows (`aligned`: base's own
 * alignment is 8, as R10's is; otherwise unknown, and every piece is a byte), and put together with `t`.
 */
function bigEndian(
  dst: number,
  base: number,
  off: number,
  size: 1 | 2 | 4,
  aligned: boolean,
  t: number,
): Insn[] {
  const out: Insn[] = [];
  for (let at = 0; at < size; ) {
    const left = size - at;
    const piece = ([4, 2, 1] as const).find(
      (s) => s <= left && (s === 1 || (aligned && (off + at) % s === 0)),
    )!;
    const reg = at === 0 ? dst : t;
    out.push(asm.ldxMem(SIZES[piece], reg, base, off + at));
    if (piece > 1) out.push(asm.endian(asm.TO_BE, reg, piece === 2 ? 16 : 32));
    if (at > 0) out.push(asm.alu32Imm(asm.LSH, dst, piece * 8), asm.alu32Reg(asm.OR, dst, t));
    at += piece;
  }
  return out;
}

export interface PacketCopy {
  /** Holds the address of the packet's first byte (a kernel address, or any pointer probe_read takes). */
  srcReg: number;
  /** Holds how many bytes can be read from there (unsigned). */
  availReg: number;
  bufOff: number;
  bufSize: number;
  /** Set to the bytes copied: min(avail, bufSize), or 0 when the read failed. One of R6-R9. */
  capLenReg: number;
  /** The helper id of bpf_probe_read_kernel (113), or bpf_probe_read (4) on old kernels. */
  probeRead: number;
  /** Label prefix (default "pf_copy_"). */
  labelPrefix?: string;
}

/** Copies the packet's first bytes into the stack buffer (see the top of this file). Clobbers R0-R5. */
export function copyPacket(p: PacketCopy): Insn[] {
  checkBuffer(p);
  if (p.capLenReg < R6 || p.capLenReg > R9)
    throw new FilterTranslateError(
      `captured length register r${p.capLenReg} must survive a call (use r6-r9)`,
    );
  if (p.srcReg === p.capLenReg)
    throw new FilterTranslateError(`the packet address and the captured length are both in r${p.srcReg}`);
  const prefix = p.labelPrefix ?? "pf_copy_";
  return [
    asm.mov64Reg(p.capLenReg, p.availReg),
    asm.jmpImm(asm.JLE, p.capLenReg, p.bufSize, `${prefix}sized`),
    asm.mov64Imm(p.capLenReg, p.bufSize),
    asm.label(`${prefix}sized`, asm.mov64Reg(R3, p.srcReg)),
    asm.mov64Reg(R2, p.capLenReg),
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, p.bufOff),
    asm.call(p.probeRead),
    asm.jmpImm(asm.JEQ, R0, 0, `${prefix}done`),
    asm.mov64Imm(p.capLenReg, 0),
    asm.label(`${prefix}done`, asm.mov64Reg(R0, R0)),
  ];
}
