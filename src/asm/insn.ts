// An eBPF instruction as a value. LD_IMM64 is one Insn with imm64 set, occupying two 8-byte slots.
// Jumps may name a label instead of an offset; resolveLabels() (and so encode()) resolves it.
import { CALL, classOf, EXIT, JMP, JMP32, LD_IMM64, MAX_REG, opOf } from "./opcodes.js";

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Only for LD_IMM64: the whole 64-bit constant. */
  imm64?: bigint;
  /** A label defined at this instruction. */
  label?: string;
  /** A jump whose offset is the distance to this label, filled in by encode(). */
  target?: string;
}

export class AsmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AsmError";
  }
}

export function slots(i: Insn): 1 | 2 {
  return i.imm64 !== undefined ? 2 : 1;
}

export function isJump(i: Insn): boolean {
  const c = classOf(i.code);
  if (c !== JMP && c !== JMP32) return false;
  const op = opOf(i.code);
  return op !== CALL && op !== EXIT;
}

/** Slot index of each instruction, and of the end. */
export function slotOffsets(insns: Insn[]): number[] {
  const out = new Array<number>(insns.length + 1);
  let n = 0;
  for (let k = 0; k < insns.length; k++) {
    out[k] = n;
    n += slots(insns[k]!);
  }
  out[insns.length] = n;
  return out;
}

/** The same instructions with every jump to a label given its offset (and no label names left): what
 * encode() writes, and what a listing must show. A new array; the input is left as is. */
export function resolveLabels(insns: Insn[]): Insn[] {
  const at = slotOffsets(insns);
  const labels = new Map<string, number>();
  insns.forEach((i, k) => {
    if (i.label !== undefined) {
      if (labels.has(i.label)) throw new AsmError(`label "${i.label}" defined twice`);
      labels.set(i.label, at[k]!);
    }
  });
  return insns.map((i, k) => {
    if (i.target === undefined && i.label === undefined) return i; // most are plain: no copy
    const { label: _label, target, ...plain } = i;
    if (target === undefined) return plain;
    const t = labels.get(target);
    if (t === undefined) throw new AsmError(`jump to unknown label "${target}"`);
    const off = t - at[k]! - 1;
    if (off < -32768 || off > 32767) throw new AsmError(`jump to "${target}" is too far (${off})`);
    return { ...plain, off };
  });
}

export function encode(insns: Insn[]): Uint8Array {
  const plain = resolveLabels(insns);
  const at = slotOffsets(plain);
  const buf = new Uint8Array(at[plain.length]! * 8);
  const dv = new DataView(buf.buffer);
  plain.forEach((i, k) => {
    const p = at[k]! * 8;
    dv.setUint8(p, i.code);
    dv.setUint8(p + 1, ((i.src & 0xf) << 4) | (i.dst & 0xf));
    dv.setInt16(p + 2, i.off, true);
    if (i.imm64 !== undefined) {
      const v = BigInt.asUintN(64, i.imm64);
      dv.setUint32(p + 4, Number(v & 0xffffffffn), true);
      dv.setUint32(p + 12, Number(v >> 32n), true);
    } else {
      dv.setInt32(p + 4, i.imm | 0, true);
    }
  });
  return buf;
}

/** The 8-byte instruction slot at byte offset p, as is (an LD_IMM64's halves are separate slots). */
export function readSlot(dv: DataView, p: number): Insn {
  const regs = dv.getUint8(p + 1);
  return {
    code: dv.getUint8(p),
    dst: regs & 0xf,
    src: regs >> 4,
    off: dv.getInt16(p + 2, true),
    imm: dv.getInt32(p + 4, true),
  };
}

/** Decodes bytecode; LD_IMM64 pairs become one Insn. Throws AsmError on a bad length or a cut pair. */
export function decode(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0) throw new AsmError(`bytecode length ${bytes.length} is not a multiple of 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let p = 0; p < bytes.length; p += 8) {
    const i = readSlot(dv, p);
    const code = i.code;
    if (code === LD_IMM64) {
      if (p + 16 > bytes.length)
        throw new AsmError(`instruction ${p / 8}: 64-bit immediate load is cut off at the end`);
      const hi = dv.getUint32(p + 12, true);
      i.imm64 = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(dv.getUint32(p + 4, true)));
      p += 8;
    }
    out.push(i);
  }
  return out;
}

export function checkReg(what: string, r: number): number {
  if (!Number.isInteger(r) || r < 0 || r > MAX_REG)
    throw new AsmError(`${what}: register ${r} is not r0..r10`);
  return r;
}
