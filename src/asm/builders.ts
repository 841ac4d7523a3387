// Builders for the instructions ipft writes. Each checks its operands' ranges and returns an Insn value.
import { AsmError, checkReg, type Insn } from "./insn.js";
import * as op from "./opcodes.js";

function imm32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new AsmError(`${what}: immediate ${v} does not fit in 32 bits`);
  }
  return v | 0;
}

function off16(what: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff)
    throw new AsmError(`${what}: offset ${v} does not fit in 16 bits`);
  return v;
}

function ins(code: number, dst: number, src: number, off: number, imm: number, what: string): Insn {
  return {
    code,
    dst: checkReg(what, dst),
    src: checkReg(what, src),
    off: off16(what, off),
    imm: imm32(what, imm),
  };
}

function jump(
  code: number,
  dst: number,
  src: number,
  imm: number,
  target: string | number,
  what: string,
): Insn {
  return typeof target === "string"
    ? { ...ins(code, dst, src, 0, imm, what), target }
    : ins(code, dst, src, target, imm, what);
}

export const alu64Imm = (o: number, dst: number, imm: number): Insn =>
  ins(op.ALU64 | o | op.K, dst, 0, 0, imm, "alu64Imm");
export const alu64Reg = (o: number, dst: number, src: number): Insn =>
  ins(op.ALU64 | o | op.X, dst, src, 0, 0, "alu64Reg");
export const alu32Imm = (o: number, dst: number, imm: number): Insn =>
  ins(op.ALU | o | op.K, dst, 0, 0, imm, "alu32Imm");
export const alu32Reg = (o: number, dst: number, src: number): Insn =>
  ins(op.ALU | o | op.X, dst, src, 0, 0, "alu32Reg");
export const mov64Imm = (dst: number, imm: number): Insn => alu64Imm(op.MOV, dst, imm);
export const mov64Reg = (dst: number, src: number): Insn => alu64Reg(op.MOV, dst, src);
export const mov32Imm = (dst: number, imm: number): Insn => alu32Imm(op.MOV, dst, imm);
export const mov32Reg = (dst: number, src: number): Insn => alu32Reg(op.MOV, dst, src);
export const neg64 = (dst: number): Insn => ins(op.ALU64 | op.NEG, dst, 0, 0, 0, "neg64");
/** Byte swap: to big (TO_BE) or little (TO_LE) endian, 16/32/64 bits. */
export const endian = (to: number, dst: number, bits: 16 | 32 | 64): Insn =>
  ins(op.ALU | op.END | to, dst, 0, 0, bits, "endian");

export const ldxMem = (size: number, dst: number, src: number, off: number): Insn =>
  ins(op.LDX | size | op.MEM, dst, src, off, 0, "ldxMem");
export const stxMem = (size: number, dst: number, src: number, off: number): Insn =>
  ins(op.STX | size | op.MEM, dst, src, off, 0, "stxMem");
export const stMem = (size: number, dst: number, off: number, imm: number): Insn =>
  ins(op.ST | size | op.MEM, dst, 0, off, imm, "stMem");
/** lock *(size *)(dst + off) += src */
export const atomicAdd = (size: number, dst: number, src: number, off: number): Insn =>
  ins(op.STX | size | op.ATOMIC, dst, src, off, op.ADD, "atomicAdd");

export const jmpImm = (o: number, dst: number, imm: number, target: string | number): Insn =>
  jump(op.JMP | o | op.K, dst, 0, imm, target, "jmpImm");
export const jmpReg = (o: number, dst: number, src: number, target: string | number): Insn =>
  jump(op.JMP | o | op.X, dst, src, 0, target, "jmpReg");
export const jmp32Imm = (o: number, dst: number, imm: number, target: string | number): Insn =>
  jump(op.JMP32 | o | op.K, dst, 0, imm, target, "jmp32Imm");
export const jmp32Reg = (o: number, dst: number, src: number, target: string | number): Insn =>
  jump(op.JMP32 | o | op.X, dst, src, 0, target, "jmp32Reg");
export const ja = (target: string | number): Insn => jump(op.JMP | op.JA, 0, 0, 0, target, "ja");
export const call = (helper: number): Insn => ins(op.JMP | op.CALL, 0, 0, 0, helper, "call");
export const exit = (): Insn => ins(op.JMP | op.EXIT, 0, 0, 0, 0, "exit");

export function ldImm64(dst: number, value: bigint | number): Insn {
  const v = BigInt(value);
  if (v < -(1n << 63n) || v >= 1n << 64n) throw new AsmError(`ldImm64: ${value} does not fit in 64 bits`);
  const imm64 = BigInt.asIntN(64, v);
  return {
    code: op.LD_IMM64,
    dst: checkReg("ldImm64", dst),
    src: 0,
    off: 0,
    imm: Number(BigInt.asIntN(32, imm64)),
    imm64,
  };
}

export function ldMapFd(dst: number, fd: number): Insn {
  return { ...ldImm64(dst, fd), src: op.PSEUDO_MAP_FD };
}

/** The same instruction with a label defined at it. */
export const label = (name: string, i: Insn): Insn => ({ ...i, label: name });
