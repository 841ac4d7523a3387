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
import { MODULE_STACK, USER_DATA_SIZE } from "./stack-layout.js";

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

/** What the guard knows of a register's value. */
type Val =
  | { k: "data"; off: number } // R1 at entry, moved
  | { k: "stack"; off: number } // R10-relative
  | { k: "orig"; reg: number } // the caller's R6..R9
  | { k: "const"; v: number }
  | { k: "unknown"; at: number }; // `at`: the instruction that made it so (-1: entry)

interface State {
  regs: Val[];
  /** The last instruction that wrote each register on some path (-1: none), to point at a clobber. */
  wrote: number[];
  /** 8-byte stack slots (by R10 offset) holding a caller's register. */
  saved: Map<number, number>;
}

const UNKNOWN_AT_ENTRY: Val = { k: "unknown", at: -1 };

// Helpers that write `size` (R2) bytes to the buffer in R1.
const WRITES_R1_R2 = new Set([4, 16, 45, 112, 113, 114, 115]);

function sameVal(a: Val, b: Val): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case "data":
    case "stack":
      return a.off === (b as typeof a).off;
    case "orig":
      return a.reg === (b as typeof a).reg;
    case "const":
      return a.v === (b as typeof a).v;
    case "unknown":
      return a.at === (b as typeof a).at;
  }
}

function join(a: State, b: State): State {
  const regs = a.regs.map((v, r) => {
    const w = b.regs[r]!;
    if (sameVal(v, w)) return v;
    const at = Math.max(v.k === "unknown" ? v.at : -1, w.k === "unknown" ? w.at : -1);
    return { k: "unknown", at } as Val;
  });
  const saved = new Map<number, number>();
  for (const [off, reg] of a.saved) if (b.saved.get(off) === reg) saved.set(off, reg);
  return { regs, wrote: a.wrote.map((w, r) => Math.max(w, b.wrote[r]!)), saved };
}

function sameState(a: State, b: State): boolean {
  if (a.saved.size !== b.saved.size) return false;
  for (const [k, v] of a.saved) if (b.saved.get(k) !== v) return false;
  return a.regs.every((v, r) => sameVal(v, b.regs[r]!) && a.wrote[r] === b.wrote[r]);
}

const SIZE_BYTES: Record<number, number> = { [op.B]: 1, [op.H]: 2, [op.W]: 4, [op.DW]: 8 };

export function checkModule(bytes: Uint8Array, opts: GuardOptions = {}): GuardViolation[] {
  const out: GuardViolation[] = [];
  const seen = new Set<string>();
  if (bytes.length % 8 !== 0) {
    return [
      {
        index: Math.floor(bytes.length / 8),
        insn: "",
        rule: "length",
        message: `the module is ${bytes.length} bytes, not a whole number of 8-byte instructions`,
      },
    ];
  }
  const n = bytes.length / 8;
  if (n > MAX_MODULE_INSNS) {
    return [
      {
        index: MAX_MODULE_INSNS,
        insn: "",
        rule: "length",
        message: `the module has ${n} instructions; the kernel takes at most ${MAX_MODULE_INSNS} in a module`,
      },
    ];
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: (Insn | undefined)[] = new Array(n); // undefined: second half of an LD_IMM64
  const text: string[] = new Array(n).fill("");
  const add = (index: number, rule: string, what: string) => {
    const key = `${index}/${rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    const t = text[index] ?? "";
    out.push({
      index,
      insn: t,
      rule,
      message: `module instruction ${index}${t ? ` (\`${t}\`)` : ""}: ${what}`,
    });
  };
  for (let k = 0; k < n; k++) {
    const p = k * 8;
    const i = readSlot(dv, p);
    const code = i.code;
    if (code === op.LD_IMM64) {
      if (k + 1 >= n) {
        insns[k] = i;
        text[k] = disasm({ ...i, imm64: BigInt(i.imm) }, opts.helperName);
        add(k, "ld_imm64", "64-bit immediate load cut off: its second half is missing");
        continue;
      }
      const c2 = dv.getUint8(p + 8);
      const r2 = dv.getUint8(p + 9);
      const o2 = dv.getInt16(p + 10, true);
      i.imm64 = BigInt.asIntN(
        64,
        (BigInt(dv.getUint32(p + 12, true)) << 32n) | BigInt(dv.getUint32(p + 4, true)),
      );
      insns[k] = i;
      text[k] = disasm(i, opts.helperName);
      if (c2 !== 0 || r2 !== 0 || o2 !== 0) {
        add(
          k,
          "ld_imm64",
          "malformed 64-bit immediate load: its second half must have opcode 0, registers 0 and offset 0",
        );
      }
      insns[k + 1] = undefined;
      k++;
      continue;
    }
    insns[k] = i;
    text[k] = disasm(i, opts.helperName);
  }

  // Rules that need no data flow.
  const isSecondHalf = (k: number) => k > 0 && k < n && insns[k] === undefined;
  for (let k = 0; k < n; k++) {
    const i = insns[k];
    if (!i) continue;
    if (text[k]!.startsWith("(bad opcode")) {
      add(k, "opcode", `unknown opcode 0x${i.code.toString(16).padStart(2, "0")}`);
      continue;
    }
    const cls = op.classOf(i.code);
    const o = op.opOf(i.code);
    if (i.dst > 10 || i.src > 10) add(k, "register", "register number above r10");
    const writesDst = cls === op.ALU || cls === op.ALU64 || cls === op.LDX || cls === op.LD;
    if (writesDst && i.dst === op.R10)
      add(k, "r10", "R10 is the read-only frame pointer and cannot be written");
    if (cls === op.JMP && o === op.EXIT) {
      add(
        k,
        "exit",
        "`exit` is not allowed: the module falls through to the end, where ipft sends the record",
      );
    } else if (cls === op.JMP && o === op.CALL) {
      if (i.src !== 0)
        add(k, "call", "only helper calls are allowed (no bpf-to-bpf or kernel function calls)");
      else if (opts.allowedHelpers && !opts.allowedHelpers(i.imm)) {
        add(
          k,
          "helper",
          `helper ${opts.helperName?.(i.imm) ?? `#${i.imm}`} is not allowed for this program type`,
        );
      }
    } else if ((cls === op.JMP || cls === op.JMP32) && o !== op.CALL && o !== op.EXIT) {
      const t = k + 1 + (cls === op.JMP32 && o === op.JA ? i.imm : i.off);
      if (t < 0 || t > n)
        add(k, "jump", `jump to ${t} leaves the module (valid targets: 0 .. ${n}, its end)`);
      else if (isSecondHalf(t)) add(k, "jump", `jump to ${t} lands inside a 64-bit immediate load`);
    }
  }
  if (out.length > 0 || n === 0) return out;

  // Data flow: pointers into the stack and the data area, and where R6-R9's values are.
  const entry: State = {
    regs: Array.from({ length: 11 }, (_, r): Val => {
      if (r === 1) return { k: "data", off: 0 };
      if (r === 10) return { k: "stack", off: 0 };
      if (r >= 6 && r <= 9) return { k: "orig", reg: r };
      return UNKNOWN_AT_ENTRY;
    }),
    wrote: new Array(11).fill(-1),
    saved: new Map(),
  };
  const states: (State | undefined)[] = new Array(n + 1);
  states[0] = entry;
  const work = [0];
  const flow = (to: number, s: State) => {
    const cur = states[to];
    const next = cur ? join(cur, s) : s;
    if (!cur || !sameState(cur, next)) {
      states[to] = next;
      if (to < n) work.push(to);
    }
  };
  const checkAccess = (k: number, base: Val, off: number, size: number) => {
    if (base.k === "stack") {
      const lo = base.off + off;
      if (lo < -MODULE_STACK || lo + size > 0) {
        add(
          k,
          "stack",
          `stack access at r10${lo < 0 ? lo : `+${lo}`} (${size} bytes) is outside the module's ${MODULE_STACK} bytes (r10-${MODULE_STACK} .. r10-1)`,
        );
      }
    } else if (base.k === "data") {
      const lo = base.off + off;
      if (lo < 0 || lo + size > USER_DATA_SIZE) {
        add(
          k,
          "data",
          `access at data+${lo} (${size} bytes) is outside the ${USER_DATA_SIZE}-byte data area that R1 points to`,
        );
      }
    }
  };
  while (work.length > 0) {
    const k = work.pop()!;
    const i = insns[k]!;
    const s: State = {
      regs: [...states[k]!.regs],
      wrote: [...states[k]!.wrote],
      saved: new Map(states[k]!.saved),
    };
    const before = [...s.regs];
    const cls = op.classOf(i.code);
    const o = op.opOf(i.code);
    const size = SIZE_BYTES[op.sizeOf(i.code)] ?? 8;
    const unknown = (): Val => ({ k: "unknown", at: k });
    let next: number[] = [k + (i.imm64 !== undefined ? 2 : 1)];
    if (cls === op.ALU64 || cls === op.ALU) {
      const d = s.regs[i.dst]!;
      if (cls === op.ALU64 && o === op.MOV) {
        s.regs[i.dst] = op.srcOf(i.code) === op.X ? s.regs[i.src]! : { k: "const", v: i.imm };
      } else if (
        cls === op.ALU64 &&
        (o === op.ADD || o === op.SUB) &&
        op.srcOf(i.code) === op.K &&
        (d.k === "data" || d.k === "stack")
      ) {
        s.regs[i.dst] = { k: d.k, off: d.off + (o === op.ADD ? i.imm : -i.imm) };
      } else if (
        cls === op.ALU64 &&
        (o === op.ADD || o === op.SUB) &&
        op.srcOf(i.code) === op.K &&
        d.k === "const"
      ) {
        s.regs[i.dst] = { k: "const", v: d.v + (o === op.ADD ? i.imm : -i.imm) };
      } else {
        s.regs[i.dst] = unknown();
      }
    } else if (cls === op.LDX) {
      const base = s.regs[i.src]!;
      checkAccess(k, base, i.off, size);
      const slot = base.k === "stack" ? base.off + i.off : undefined;
      const reg = slot !== undefined && size === 8 ? s.saved.get(slot) : undefined;
      s.regs[i.dst] = reg !== undefined ? { k: "orig", reg } : unknown();
    } else if (cls === op.STX || cls === op.ST) {
      const base = s.regs[i.dst]!;
      checkAccess(k, base, i.off, size);
      if (base.k === "stack") {
        const lo = base.off + i.off;
        for (const slot of [...s.saved.keys()]) if (slot < lo + size && slot + 8 > lo) s.saved.delete(slot);
        const v = s.regs[i.src]!;
        if (cls === op.STX && op.modeOf(i.code) === op.MEM && size === 8 && v.k === "orig")
          s.saved.set(lo, v.reg);
      }
    } else if (cls === op.LD) {
      // LD_IMM64 sets dst; the old packet loads (ABS/IND) set r0.
      s.regs[i.code === op.LD_IMM64 ? i.dst : 0] = unknown();
    } else if (cls === op.JMP || cls === op.JMP32) {
      if (o === op.CALL) {
        const r1 = s.regs[1]!;
        const r2 = s.regs[2]!;
        if (WRITES_R1_R2.has(i.imm) && (r1.k === "stack" || r1.k === "data")) {
          if (r2.k === "const") checkAccess(k, r1, 0, r2.v);
          const lo = r1.k === "stack" ? r1.off : 0;
          const hi = r2.k === "const" ? lo + r2.v : 0;
          if (r1.k === "stack")
            for (const slot of [...s.saved.keys()]) if (slot + 8 > lo && slot < hi) s.saved.delete(slot);
        }
        for (let r = 0; r <= 5; r++) s.regs[r] = unknown();
      } else if (o === op.JA) {
        next = [k + 1 + (cls === op.JMP32 ? i.imm : i.off)];
      } else {
        next = [k + 1, k + 1 + i.off];
      }
    }
    for (let r = 0; r <= 10; r++) if (s.regs[r] !== before[r]) s.wrote[r] = k;
    for (const t of next) flow(t, s);
  }
  const end = states[n];
  if (end) {
    for (let r = 6; r <= 9; r++) {
      const v = end.regs[r]!;
      if (v.k === "orig" && v.reg === r) continue;
      const at = end.wrote[r]! >= 0 ? end.wrote[r]! : n - 1;
      add(
        at,
        "callee-saved",
        `r${r} does not hold the caller's value when the module ends (save it on the module's stack and restore it)`,
      );
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

export function assertModule(bytes: Uint8Array, opts: GuardOptions = {}): void {
  const v = checkModule(bytes, opts);
  if (v.length > 0) throw new AbiViolation(v);
}
