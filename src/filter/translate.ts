// Classic BPF (what libpcap compiles a pcap-filter expression to) translated into a block of eBPF.
//
// The block's contract:
// - Registers: A lives in R0, X in R1; R2 and R3 are temporaries of the packet access. The block writes
//   R0-R3 only, calls no helper, and reads nothing but R10, R0-R3 and what the packet access reads (the
//   stack-buffer access reads its two length registers, which must not be R0-R3).
// - Stack: the classic scratch memory M[i] is the u32 at R10 + scratchOff + 4*i (64 bytes reserved; only
//   the words the program uses are written, the ones it reads are zeroed at the start of the block so the
//   verifier sees them initialised).
// - Exits: every path ends with a jump to `match` (the classic program returned non-zero) or to `nomatch`
//   (it returned 0, loaded outside the captured bytes, or divided by zero: bpf_filter's own rules). Both
//   labels belong to the caller. Labels inside the block start with `labelPrefix`, so two blocks (one per
//   link type) can live in one program.
// - Classic programs jump only forward, so the block is loop-free.
import { asm, type Insn, isJump, op } from "../asm/index.js";
import { R0, R1, R2, R3, R10 } from "../asm/opcodes.js";
import { UserError } from "../core/errors.js";
import type { CbpfInsn } from "./cbpf.js";
import * as c from "./cbpf.js";

/** The accumulator, the index register and the temporaries, and every register the block writes. */
export const REG_A = R0;
export const REG_X = R1;
export const REG_TMP: readonly [number, number] = [R2, R3];
export const CLOBBERED: readonly number[] = [R0, R1, R2, R3];
/** Bytes of stack the classic scratch memory needs at scratchOff. */
export const SCRATCH_SIZE = c.MEMWORDS * 4;

/** Where the packet's bytes are: the translator asks this for every load and does not care how it is done. */
export interface PacketAccess {
  /**
   * Instructions that set `dst` to the `size` bytes at packet offset `k` (or `x` + `k`, `x` being a
   * register holding a u32), read as a big-endian number and zero-extended, or jump to `fail` when those
   * bytes are not all in the captured packet. They may write `tmp`'s two registers and `dst`, nothing else.
   */
  load(
    dst: number,
    size: 1 | 2 | 4,
    at: { k: number; x?: number },
    fail: string,
    tmp: readonly [number, number],
  ): Insn[];
  /** Instructions that set `dst` to the packet's length on the wire (classic `len`), a u32. */
  wireLen(dst: number): Insn[];
}

export interface FilterBlockSpec {
  access: PacketAccess;
  /** Stack offset (negative, from R10) of M[0]; SCRATCH_SIZE bytes. */
  scratchOff: number;
  /** The caller's labels: where a matching packet and a rejected packet go. */
  match: string;
  nomatch: string;
  /** Prefix of the block's own labels (default "pf_"). */
  labelPrefix?: string;
}

/** A classic program this translator cannot take (libpcap does not produce such programs). */
export class FilterTranslateError extends UserError {}

/** The instructions control can reach from the first (the verifier refuses unreachable ones): the jump
 * after a final return, the code after a load the buffer can never hold or a division by zero. A label
 * is only ever reached from reachable code, so none that is kept points to a dropped instruction. */
function reachable(insns: Insn[]): Insn[] {
  const index = new Map<string, number>();
  insns.forEach((i, n) => {
    if (i.label !== undefined) index.set(i.label, n);
  });
  const seen = new Uint8Array(insns.length);
  const todo = [0];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (n >= insns.length || seen[n]) continue;
    seen[n] = 1;
    const i = insns[n]!;
    if (isJump(i)) {
      const t = i.target !== undefined ? index.get(i.target) : n + 1 + i.off;
      if (t !== undefined) todo.push(t); // undefined: one of the caller's labels
      if (op.opOf(i.code) === op.JA && op.classOf(i.code) === op.JMP) continue;
    } else if (op.opOf(i.code) === op.EXIT && op.classOf(i.code) === op.JMP) continue;
    todo.push(n + 1);
  }
  return insns.filter((_, n) => seen[n]);
}

/** What translating one classic program needs at each instruction. */
interface Ctx {
  prog: CbpfInsn[];
  spec: FilterBlockSpec;
  prefix: string;
}

/** The label of classic instruction `pc`. */
const at = (x: Ctx, pc: number) => `${x.prefix}${pc}`;

const bad = (x: Ctx, pc: number, why: string) =>
  new FilterTranslateError(`packet filter instruction ${c.describeInsn(x.prog[pc]!, pc)}: ${why}`);

/** Where a jump of `rel` from `pc` lands. */
function target(x: Ctx, pc: number, rel: number): number {
  const t = pc + 1 + rel;
  if (t >= x.prog.length) throw bad(x, pc, "jumps past the end of the program");
  return t;
}

/** The stack offset of scratch word M[k]. */
function mem(x: Ctx, pc: number, k: number): number {
  if (k >= c.MEMWORDS) throw bad(x, pc, `scratch word ${k} is not one of M[0..${c.MEMWORDS - 1}]`);
  return x.spec.scratchOff + 4 * k;
}

/** The eBPF block for a classic program; see the contract at the top of this file. */
export function translate(prog: CbpfInsn[], spec: FilterBlockSpec): Insn[] {
  if (prog.length === 0) throw new FilterTranslateError("the packet filter program is empty");
  if (spec.scratchOff % 4 !== 0 || spec.scratchOff > -SCRATCH_SIZE || spec.scratchOff < -512)
    throw new FilterTranslateError(`scratch offset ${spec.scratchOff} is not 4-aligned inside the stack`);
  const x: Ctx = { prog, spec, prefix: spec.labelPrefix ?? "pf_" };

  const out: Insn[] = [asm.mov32Imm(REG_A, 0), asm.mov32Imm(REG_X, 0)];
  // Zero the scratch words the program reads: bpf_filter leaves them undefined before a store, the
  // verifier refuses uninitialised stack.
  const read = new Set<number>();
  for (const [pc, i] of prog.entries())
    if ((c.classOf(i.code) === c.LD || c.classOf(i.code) === c.LDX) && c.modeOf(i.code) === c.MEM)
      read.add(mem(x, pc, i.k));
  for (const off of [...read].sort((a, b) => a - b)) out.push(asm.stMem(asm.W, R10, off, 0));

  for (const [pc, i] of prog.entries()) {
    const body = insn(x, pc, i);
    if (body.length === 0) throw bad(x, pc, "translates to nothing"); // every pc needs a label
    body[0] = { ...body[0]!, label: at(x, pc) };
    out.push(...body);
  }
  // A program whose last instruction is not a return falls off its end: bpf_filter rejects the packet.
  out.push(asm.ja(spec.nomatch));
  return reachable(out);
}

function insn(x: Ctx, pc: number, i: CbpfInsn): Insn[] {
  const { match, nomatch } = x.spec;
  const code = i.code;
  const k = i.k >>> 0;
  switch (c.classOf(code)) {
    case c.LD:
    case c.LDX:
      return load(x, pc, code, k);
    case c.ST:
      return [asm.stxMem(asm.W, R10, REG_A, mem(x, pc, k))];
    case c.STX:
      return [asm.stxMem(asm.W, R10, REG_X, mem(x, pc, k))];
    case c.ALU:
      return alu(x, pc, code, k);
    case c.JMP:
      return jump(x, pc, i);
    case c.RET: {
      const rv = c.rvalOf(code);
      if (rv === c.K) return [asm.ja(k !== 0 ? match : nomatch)];
      const reg = rv === c.RET_A ? REG_A : rv === c.X ? REG_X : -1;
      if (reg < 0) throw bad(x, pc, "unknown return");
      return [asm.jmp32Imm(asm.JNE, reg, 0, match), asm.ja(nomatch)];
    }
    case c.MISC:
      if (c.miscOf(code) === c.TAX) return [asm.mov32Reg(REG_X, REG_A)];
      if (c.miscOf(code) === c.TXA) return [asm.mov32Reg(REG_A, REG_X)];
      throw bad(x, pc, "unknown operation");
  }
  throw bad(x, pc, "unknown class");
}

/** LD and LDX: an immediate, a scratch word, the wire length, or packet bytes through the access. */
function load(x: Ctx, pc: number, code: number, k: number): Insn[] {
  const { access, nomatch } = x.spec;
  const dst = c.classOf(code) === c.LD ? REG_A : REG_X;
  const mode = c.modeOf(code);
  if (mode === c.IMM) return [asm.mov32Imm(dst, k | 0)];
  if (mode === c.MEM) return [asm.ldxMem(asm.W, dst, R10, mem(x, pc, k))];
  if (mode === c.LEN) return access.wireLen(dst);
  if (dst === REG_A && mode === c.ABS) return access.load(REG_A, c.bytesOf(code), { k }, nomatch, REG_TMP);
  if (dst === REG_A && mode === c.IND)
    return access.load(REG_A, c.bytesOf(code), { k, x: REG_X }, nomatch, REG_TMP);
  if (dst === REG_X && mode === c.MSH && c.sizeOf(code) === c.B)
    return [
      ...access.load(REG_X, 1, { k }, nomatch, REG_TMP),
      asm.alu32Imm(asm.AND, REG_X, 0xf),
      asm.alu32Imm(asm.LSH, REG_X, 2),
    ];
  throw bad(x, pc, "unknown load");
}

const ALU_OPS: Record<number, number> = {
  [c.ADD]: asm.ADD,
  [c.SUB]: asm.SUB,
  [c.MUL]: asm.MUL,
  [c.DIV]: asm.DIV,
  [c.OR]: asm.OR,
  [c.AND]: asm.AND,
  [c.LSH]: asm.LSH,
  [c.RSH]: asm.RSH,
  [c.MOD]: asm.MOD,
  [c.XOR]: asm.XOR,
};

// 32-bit ALU: A and X are u32, and eBPF's 32-bit operations zero the upper half as classic BPF expects.
function alu(x: Ctx, pc: number, code: number, k: number): Insn[] {
  const { nomatch } = x.spec;
  const o = c.opOf(code);
  if (o === c.NEG) return [asm.alu32Imm(asm.NEG, REG_A, 0)];
  const e = ALU_OPS[o];
  if (e === undefined) throw bad(x, pc, "unknown arithmetic");
  const shift = o === c.LSH || o === c.RSH;
  const divide = o === c.DIV || o === c.MOD;
  if (c.srcOf(code) === c.K) {
    // bpf_filter: a shift by 32 or more gives 0 (eBPF refuses such a shift); a division by 0 rejects.
    if (shift && k >= 32) return [asm.mov32Imm(REG_A, 0)];
    if (divide && k === 0) return [asm.ja(nomatch)];
    return [asm.alu32Imm(e, REG_A, k | 0)];
  }
  const next = `${x.prefix}${pc}_x`;
  if (divide) return [asm.jmp32Imm(asm.JEQ, REG_X, 0, nomatch), asm.alu32Reg(e, REG_A, REG_X)];
  if (shift)
    return [
      asm.mov32Imm(REG_TMP[0], 0),
      asm.jmp32Imm(asm.JGE, REG_X, 32, next),
      asm.mov32Reg(REG_TMP[0], REG_A),
      asm.alu32Reg(e, REG_TMP[0], REG_X),
      asm.label(next, asm.mov32Reg(REG_A, REG_TMP[0])),
    ];
  return [asm.alu32Reg(e, REG_A, REG_X)];
}

/** Each classic condition and its negation (none for JSET). */
const JUMP_OPS: Record<number, [number, number | undefined]> = {
  [c.JEQ]: [asm.JEQ, asm.JNE],
  [c.JGT]: [asm.JGT, asm.JLE],
  [c.JGE]: [asm.JGE, asm.JLT],
  [c.JSET]: [asm.JSET, undefined],
};

// Conditional jumps compare A, as a u32, with k or X; jt and jf count from the next instruction.
function jump(x: Ctx, pc: number, i: CbpfInsn): Insn[] {
  const o = c.opOf(i.code);
  if (o === c.JA) return [asm.ja(at(x, target(x, pc, i.k >>> 0)))];
  const pair = JUMP_OPS[o];
  if (pair === undefined) throw bad(x, pc, "unknown jump");
  const t = target(x, pc, i.jt);
  const f = target(x, pc, i.jf);
  const next = pc + 1;
  const cond = (op: number, to: number) =>
    c.srcOf(i.code) === c.X
      ? asm.jmp32Reg(op, REG_A, REG_X, at(x, to))
      : asm.jmp32Imm(op, REG_A, i.k | 0, at(x, to));
  if (t === f) return [asm.ja(at(x, t))];
  if (f === next) return [cond(pair[0], t)];
  if (t === next && pair[1] !== undefined) return [cond(pair[1], f)];
  return [cond(pair[0], t), asm.ja(at(x, f))];
}
