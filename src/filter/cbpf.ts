// Classic BPF (linux/filter.h, pcap/bpf.h): the opcode fields, and a listing in tcpdump -d's notation.
import type { CbpfInsn } from "../sys/pcap.js";

export type { CbpfInsn };

// Classes (low 3 bits).
export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const RET = 0x06;
export const MISC = 0x07;

// Sizes.
export const W = 0x00;
export const H = 0x08;
export const B = 0x10;

// Modes.
export const IMM = 0x00;
export const ABS = 0x20;
export const IND = 0x40;
export const MEM = 0x60;
export const LEN = 0x80;
export const MSH = 0xa0;

// ALU operations.
// The same values as eBPF's (which kept classic BPF's encoding for these).
export { ADD, AND, DIV, LSH, MOD, MUL, NEG, OR, RSH, SUB, XOR };

// Jumps.
export const JA = 0x00;
export const JEQ = 0x10;
export const JGT = 0x20;
export const JGE = 0x30;
export const JSET = 0x40;

// Operand source (ALU, JMP) and return value (RET).
export const K = 0x00;
export const X = 0x08;
export const RET_A = 0x10;

// MISC operations.
export const TAX = 0x00;
export const TXA = 0x80;

/** Words of scratch memory M[]. */
export const MEMWORDS = 16;

// The code word's fields sit where eBPF keeps them (eBPF grew out of this encoding).
import {
  ADD,
  AND,
  classOf,
  DIV,
  LSH,
  MOD,
  MUL,
  modeOf,
  NEG,
  OR,
  opOf,
  RSH,
  SUB,
  sizeOf,
  srcOf,
  XOR,
} from "../asm/opcodes.js";

export { classOf, modeOf, opOf, sizeOf, srcOf };
export const rvalOf = (code: number): number => code & 0x18;
export const miscOf = (code: number): number => code & 0xf8;

/** Bytes read by a load of this size field. */
export function bytesOf(code: number): 1 | 2 | 4 {
  const s = sizeOf(code);
  return s === B ? 1 : s === H ? 2 : 4;
}

const ALU_NAMES: Record<number, string> = {
  [ADD]: "add",
  [SUB]: "sub",
  [MUL]: "mul",
  [DIV]: "div",
  [OR]: "or",
  [AND]: "and",
  [LSH]: "lsh",
  [RSH]: "rsh",
  [NEG]: "neg",
  [MOD]: "mod",
  [XOR]: "xor",
};
const JMP_NAMES: Record<number, string> = {
  [JA]: "ja",
  [JEQ]: "jeq",
  [JGT]: "jgt",
  [JGE]: "jge",
  [JSET]: "jset",
};
const SUFFIX: Record<number, string> = { [W]: "", [H]: "h", [B]: "b" };

const hex = (k: number) => `0x${(k >>> 0).toString(16)}`;

/** One instruction in tcpdump -d's notation ("(004) jeq #0x800 jt 5 jf 9"). */
export function describeInsn(i: CbpfInsn, pc: number): string {
  const at = `(${String(pc).padStart(3, "0")})`;
  const line = (op: string, arg = "") => `${at} ${arg ? `${op.padEnd(8)} ${arg}` : op}`.trimEnd();
  const c = i.code;
  switch (classOf(c)) {
    case LD:
    case LDX: {
      const x = classOf(c) === LDX;
      const name = `ld${x ? "x" : ""}${SUFFIX[sizeOf(c)] ?? "?"}`;
      switch (modeOf(c)) {
        case IMM:
          return line(x ? "ldx" : "ld", `#${hex(i.k)}`);
        case ABS:
          return line(name, `[${i.k}]`);
        case IND:
          return line(name, `[x + ${i.k}]`);
        case MEM:
          return line(x ? "ldx" : "ld", `M[${i.k}]`);
        case LEN:
          return line(x ? "ldx" : "ld", "#pktlen");
        case MSH:
          return line(name, `4*([${i.k}]&0xf)`);
      }
      break;
    }
    case ST:
      return line("st", `M[${i.k}]`);
    case STX:
      return line("stx", `M[${i.k}]`);
    case ALU: {
      const name = ALU_NAMES[opOf(c)] ?? "alu?";
      if (opOf(c) === NEG) return line(name);
      return line(name, srcOf(c) === X ? "x" : `#${hex(i.k)}`);
    }
    case JMP: {
      const name = JMP_NAMES[opOf(c)] ?? "j?";
      if (opOf(c) === JA) return line(name, String(pc + 1 + i.k));
      const arg = srcOf(c) === X ? "x" : `#${hex(i.k)}`;
      return line(name, `${arg.padEnd(10)}jt ${pc + 1 + i.jt}\tjf ${pc + 1 + i.jf}`);
    }
    case RET:
      return line("ret", rvalOf(c) === RET_A ? "a" : rvalOf(c) === X ? "x" : `#${i.k}`);
    case MISC:
      return line(miscOf(c) === TXA ? "txa" : "tax");
  }
  return line("unknown", `code ${hex(c)} k ${hex(i.k)}`);
}

/** The whole program, one line per instruction, like tcpdump -d. */
export function describe(insns: CbpfInsn[]): string[] {
  return insns.map(describeInsn);
}
