// The ABI guard: checks a user module against the contract of the scripting manual before the kernel sees
// it, and explains each breach by instruction. The kernel verifier only knows the whole program; it would
// happily accept a module that overwrites ipft's own record or stack, or leaves R6-R9 changed.
//   - the module may use the stack only at R10-256 .. R10-1, and the data area at R1 only for 64 bytes;
//   - R10 is read-only; no `exit` (the module falls through into the caller's epilogue);
//   - jumps stay inside the module or land exactly at its end;
//   - R6-R9 hold the caller's values again on every path that reaches the end;
//   - LD_IMM64 pairs are whole; helpers are ones the program type may call.
import { disasm } from "../asm/disasm.js";
import { type Insn, readSlot } from "../asm/insn.js";
import * as op from "../asm/opcodes.js";
import { UserError } from "../core/errors.js";
import { checkFlow } from "./module-flow.js";

export interface GuardViolation {
  index: number;
  insn: string;
  rule: string;
  message: string;
}

export class AbiViolation extends UserError {
  readonly violations: GuardViolation[];
  constructor(violations: GuardViolation[]) {
    const v = violations[0]!;
    super(`${v.message}${violations.length > 1 ? ` (and ${violations.length - 1} more)` : ""}`);
    this.violations = violations;
  }
}

/** Room left for the module: the kernel takes at most 1M instructions, and ipft's own part needs ~70. */
export const MAX_MODULE_INSNS = 1_000_000 - 128;

export interface GuardOptions {
  allowedHelpers?: (id: number) => boolean;
  helperName?: (id: number) => string | undefined;
}

export function checkModule(bytes: Uint8Array, opts: GuardOptions = {}): GuardViolation[] {
  const bad = badLength(bytes.length);
  if (bad) return [bad];
  const m = decodeModule(bytes, opts.helperName);
  const found = new Violations(m.text);
  for (const k of m.badImm64)
    found.add(
      k,
      "ld_imm64",
      "malformed 64-bit immediate load: its second half must have opcode 0, registers 0 and offset 0",
    );
  // Only the last instruction can be cut off: it comes after every malformed one.
  for (const k of m.cutImm64)
    found.add(k, "ld_imm64", "64-bit immediate load cut off: its second half is missing");
  checkEach(m, opts, found);
  if (found.list.length > 0 || m.n === 0) return found.list;
  checkFlow(m.insns, m.n, found);
  return found.list.sort((a, b) => a.index - b.index);
}

/** A module that is not whole instructions, or more than the kernel takes. */
function badLength(bytes: number): GuardViolation | undefined {
  if (bytes % 8 !== 0)
    return {
      index: Math.floor(bytes / 8),
      insn: "",
      rule: "length",
      message: `the module is ${bytes} bytes, not a whole number of 8-byte instructions`,
    };
  const n = bytes / 8;
  if (n > MAX_MODULE_INSNS)
    return {
      index: MAX_MODULE_INSNS,
      insn: "",
      rule: "length",
      message: `the module has ${n} instructions; the kernel takes at most ${MAX_MODULE_INSNS} in a module`,
    };
  return undefined;
}

/** The violations found, one per instruction and rule, each told with the instruction's text. */
class Violations {
  readonly list: GuardViolation[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly text: string[]) {}
  add(index: number, rule: string, what: string): void {
    const key = `${index}/${rule}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const t = this.text[index] ?? "";
    this.list.push({
      index,
      insn: t,
      rule,
      message: `module instruction ${index}${t ? ` (\`${t}\`)` : ""}: ${what}`,
    });
  }
}

interface Decoded {
  n: number;
  /** undefined: the second half of an LD_IMM64. */
  insns: (Insn | undefined)[];
  text: string[];
  /** LD_IMM64s whose second half is missing, or malformed. */
  cutImm64: number[];
  badImm64: number[];
}

function decodeModule(bytes: Uint8Array, helperName: GuardOptions["helperName"]): Decoded {
  const n = bytes.length / 8;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m: Decoded = { n, insns: new Array(n), text: new Array(n).fill(""), cutImm64: [], badImm64: [] };
  for (let k = 0; k < n; k++) {
    const p = k * 8;
    const i = readSlot(dv, p);
    m.insns[k] = i;
    if (i.code !== op.LD_IMM64) {
      m.text[k] = disasm(i, helperName);
      continue;
    }
    if (k + 1 >= n) {
      m.text[k] = disasm({ ...i, imm64: BigInt(i.imm) }, helperName);
      m.cutImm64.push(k);
      continue;
    }
    i.imm64 = BigInt.asIntN(
      64,
      (BigInt(dv.getUint32(p + 12, true)) << 32n) | BigInt(dv.getUint32(p + 4, true)),
    );
    m.text[k] = disasm(i, helperName);
    if (dv.getUint8(p + 8) !== 0 || dv.getUint8(p + 9) !== 0 || dv.getInt16(p + 10, true) !== 0)
      m.badImm64.push(k);
    m.insns[k + 1] = undefined;
    k++;
  }
  return m;
}

/** Rules that need no data flow: opcodes, registers, R10, exit, calls, jump targets. */
function checkEach(m: Decoded, opts: GuardOptions, found: Violations): void {
  const { n, insns, text } = m;
  const isSecondHalf = (k: number) => k > 0 && k < n && insns[k] === undefined;
  for (let k = 0; k < n; k++) {
    const i = insns[k];
    if (!i) continue;
    const add = (rule: string, what: string) => found.add(k, rule, what);
    if (text[k]!.startsWith("(bad opcode")) {
      add("opcode", `unknown opcode 0x${i.code.toString(16).padStart(2, "0")}`);
      continue;
    }
    const cls = op.classOf(i.code);
    const o = op.opOf(i.code);
    if (i.dst > 10 || i.src > 10) add("register", "register number above r10");
    const writesDst = cls === op.ALU || cls === op.ALU64 || cls === op.LDX || cls === op.LD;
    if (writesDst && i.dst === op.R10) add("r10", "R10 is the read-only frame pointer and cannot be written");
    if (cls === op.JMP && o === op.EXIT) {
      add("exit", "`exit` is not allowed: the module falls through to the end, where ipft sends the record");
    } else if (cls === op.JMP && o === op.CALL) {
      if (i.src !== 0) add("call", "only helper calls are allowed (no bpf-to-bpf or kernel function calls)");
      else if (opts.allowedHelpers && !opts.allowedHelpers(i.imm))
        add(
          "helper",
          `helper ${opts.helperName?.(i.imm) ?? `#${i.imm}`} is not allowed for this program type`,
        );
    } else if ((cls === op.JMP || cls === op.JMP32) && o !== op.CALL && o !== op.EXIT) {
      const t = k + 1 + (cls === op.JMP32 && o === op.JA ? i.imm : i.off);
      if (t < 0 || t > n) add("jump", `jump to ${t} leaves the module (valid targets: 0 .. ${n}, its end)`);
      else if (isSecondHalf(t)) add("jump", `jump to ${t} lands inside a 64-bit immediate load`);
    }
  }
}

export function assertModule(bytes: Uint8Array, opts: GuardOptions = {}): void {
  const v = checkModule(bytes, opts);
  if (v.length > 0) throw new AbiViolation(v);
}
