// Disassembly in the kernel verifier's (and bpftool's) notation, so a user can match --gen output with a
// verifier log line by line.
import { encode, type Insn, resolveLabels } from "./insn.js";
import * as op from "./opcodes.js";

const ALU_OPS: Record<number, string> = {
  [op.ADD]: "+=",
  [op.SUB]: "-=",
  [op.MUL]: "*=",
  [op.DIV]: "/=",
  [op.OR]: "|=",
  [op.AND]: "&=",
  [op.LSH]: "<<=",
  [op.RSH]: ">>=",
  [op.MOD]: "%=",
  [op.XOR]: "^=",
  [op.MOV]: "=",
  [op.ARSH]: "s>>=",
};

const JMP_OPS: Record<number, string> = {
  [op.JEQ]: "==",
  [op.JGT]: ">",
  [op.JGE]: ">=",
  [op.JSET]: "&",
  [op.JNE]: "!=",
  [op.JSGT]: "s>",
  [op.JSGE]: "s>=",
  [op.JLT]: "<",
  [op.JLE]: "<=",
  [op.JSLT]: "s<",
  [op.JSLE]: "s<=",
};

const SIZES: Record<number, string> = { [op.B]: "u8", [op.H]: "u16", [op.W]: "u32", [op.DW]: "u64" };

const signed = (n: number) => (n < 0 ? `${n}` : `+${n}`);
const hex32 = (n: number) => `0x${(n >>> 0).toString(16)}`;

export function disasm(i: Insn, helperName?: (id: number) => string | undefined): string {
  const cls = op.classOf(i.code);
  const size = SIZES[op.sizeOf(i.code)] ?? "u?";
  switch (cls) {
    case op.ALU:
    case op.ALU64: {
      const r = cls === op.ALU64 ? "r" : "w";
      const o = op.opOf(i.code);
      if (o === op.END) {
        const to = op.srcOf(i.code) === op.TO_BE ? "be" : "le";
        return `r${i.dst} = ${to}${i.imm} r${i.dst}`;
      }
      if (o === op.NEG) return `${r}${i.dst} = -${r}${i.dst}`;
      const s = ALU_OPS[o];
      if (!s) break;
      return op.srcOf(i.code) === op.X ? `${r}${i.dst} ${s} ${r}${i.src}` : `${r}${i.dst} ${s} ${i.imm}`;
    }
    case op.LDX:
      if (op.modeOf(i.code) === op.MEM) return `r${i.dst} = *(${size} *)(r${i.src} ${signed(i.off)})`;
      break;
    case op.STX:
      if (op.modeOf(i.code) === op.MEM) return `*(${size} *)(r${i.dst} ${signed(i.off)}) = r${i.src}`;
      if (op.modeOf(i.code) === op.ATOMIC && i.imm === op.ADD)
        return `lock *(${size} *)(r${i.dst} ${signed(i.off)}) += r${i.src}`;
      break;
    case op.ST:
      if (op.modeOf(i.code) === op.MEM) return `*(${size} *)(r${i.dst} ${signed(i.off)}) = ${i.imm}`;
      break;
    case op.LD:
      if (i.code === op.LD_IMM64) {
        if (i.src === op.PSEUDO_MAP_FD) return `r${i.dst} = map[fd:${i.imm}]`;
        return `r${i.dst} = 0x${BigInt.asUintN(64, i.imm64 ?? BigInt(i.imm)).toString(16)} ll`;
      }
      if (op.modeOf(i.code) === op.ABS) return `r0 = *(${size} *)skb[${i.imm}]`;
      if (op.modeOf(i.code) === op.IND) return `r0 = *(${size} *)skb[r${i.src} + ${i.imm}]`;
      break;
    case op.JMP:
    case op.JMP32: {
      const o = op.opOf(i.code);
      if (cls === op.JMP && o === op.CALL) {
        if (i.src === op.PSEUDO_CALL) return `call pc${signed(i.imm)}`;
        if (i.src === op.PSEUDO_KFUNC_CALL) return `call kernel-function#${i.imm}`;
        const n = helperName?.(i.imm);
        return n ? `call ${n}#${i.imm}` : `call #${i.imm}`;
      }
      if (cls === op.JMP && o === op.EXIT) return "exit";
      if (o === op.JA) return `goto pc${signed(cls === op.JMP32 ? i.imm : i.off)}`;
      const s = JMP_OPS[o];
      if (!s) break;
      const r = cls === op.JMP ? "r" : "w";
      const rhs = op.srcOf(i.code) === op.X ? `${r}${i.src}` : hex32(i.imm);
      return `if ${r}${i.dst} ${s} ${rhs} goto pc${signed(i.off)}`;
    }
  }
  return `(bad opcode 0x${i.code.toString(16).padStart(2, "0")})`;
}

/** One line per 8-byte slot: `INDEX: HEX16  TEXT`; the second slot of an LD_IMM64 has no text. Jumps to
 * labels show the offsets they are encoded with. */
export function disasmProgram(given: Insn[], helperName?: (id: number) => string | undefined): string[] {
  const insns = resolveLabels(given);
  const bytes = encode(insns);
  const hex = (slot: number) => Buffer.from(bytes.subarray(slot * 8, slot * 8 + 8)).toString("hex");
  const lines: string[] = [];
  let slot = 0;
  for (const i of insns) {
    lines.push(`${slot}: ${hex(slot)}  ${disasm(i, helperName)}`);
    if (i.imm64 !== undefined) lines.push(`${slot + 1}: ${hex(slot + 1)}`);
    slot += i.imm64 !== undefined ? 2 : 1;
  }
  return lines;
}
