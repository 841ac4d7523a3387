// The ABI guard's data flow (program/module-abi.ts): what each register holds (a pointer into the stack
// or the data area, a caller's R6-R9, a constant), followed along every path of the module, so that each
// access is checked against the module's bounds and R6-R9 are known to hold the caller's values at its end.
import type { Insn } from "../asm/insn.js";
import * as op from "../asm/opcodes.js";
import { Helper } from "../sys/bpf-abi.js";
import { MODULE_STACK, USER_DATA_SIZE } from "./stack-layout.js";

/** Reports a breach at an instruction, under a rule. */
export interface Report {
  add(index: number, rule: string, what: string): void;
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
const WRITES_R1_R2 = new Set<number>([
  Helper.probe_read,
  Helper.get_current_comm,
  Helper.probe_read_str,
  Helper.probe_read_user,
  Helper.probe_read_kernel,
  Helper.probe_read_user_str,
  Helper.probe_read_kernel_str,
]);

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

/** Data flow: pointers into the stack and the data area, and where R6-R9's values are. Every path is
 * followed to a fixed point; the accesses are checked on the way, R6-R9 at the end. */
export function checkFlow(insns: (Insn | undefined)[], n: number, found: Report): void {
  const states: (State | undefined)[] = new Array(n + 1);
  states[0] = entryState();
  const work = [0];
  const flow = (to: number, s: State) => {
    const cur = states[to];
    const next = cur ? join(cur, s) : s;
    if (!cur || !sameState(cur, next)) {
      states[to] = next;
      if (to < n) work.push(to);
    }
  };
  while (work.length > 0) {
    const k = work.pop()!;
    const s = copyState(states[k]!);
    const next = step(k, insns[k]!, s, (base, off, size) => checkAccess(found, k, base, off, size));
    for (const t of next) flow(t, s);
  }
  const end = states[n];
  if (!end) return;
  for (let r = 6; r <= 9; r++) {
    const v = end.regs[r]!;
    if (v.k === "orig" && v.reg === r) continue;
    found.add(
      end.wrote[r]! >= 0 ? end.wrote[r]! : n - 1,
      "callee-saved",
      `r${r} does not hold the caller's value when the module ends (save it on the module's stack and restore it)`,
    );
  }
}

function entryState(): State {
  return {
    regs: Array.from({ length: 11 }, (_, r): Val => {
      if (r === 1) return { k: "data", off: 0 };
      if (r === 10) return { k: "stack", off: 0 };
      if (r >= 6 && r <= 9) return { k: "orig", reg: r };
      return UNKNOWN_AT_ENTRY;
    }),
    wrote: new Array(11).fill(-1),
    saved: new Map(),
  };
}

const copyState = (s: State): State => ({ regs: [...s.regs], wrote: [...s.wrote], saved: new Map(s.saved) });

type Access = (base: Val, off: number, size: number) => void;

/** Instruction `k`'s effect on `s` (changed in place); returns where it goes next. */
function step(k: number, i: Insn, s: State, access: Access): number[] {
  const before = [...s.regs];
  const cls = op.classOf(i.code);
  const o = op.opOf(i.code);
  const size = SIZE_BYTES[op.sizeOf(i.code)] ?? 8;
  const unknown = (): Val => ({ k: "unknown", at: k });
  let next: number[] = [k + (i.imm64 !== undefined ? 2 : 1)];
  if (cls === op.ALU64 || cls === op.ALU) {
    s.regs[i.dst] = alu(cls, o, i, s.regs, unknown);
  } else if (cls === op.LDX) {
    const base = s.regs[i.src]!;
    access(base, i.off, size);
    const slot = base.k === "stack" ? base.off + i.off : undefined;
    const reg = slot !== undefined && size === 8 ? s.saved.get(slot) : undefined;
    s.regs[i.dst] = reg !== undefined ? { k: "orig", reg } : unknown();
  } else if (cls === op.STX || cls === op.ST) {
    const base = s.regs[i.dst]!;
    access(base, i.off, size);
    if (base.k === "stack") {
      const lo = base.off + i.off;
      forget(s, lo, lo + size);
      const v = s.regs[i.src]!;
      if (cls === op.STX && op.modeOf(i.code) === op.MEM && size === 8 && v.k === "orig")
        s.saved.set(lo, v.reg);
    }
  } else if (cls === op.LD) {
    // LD_IMM64 sets dst; the old packet loads (ABS/IND) set r0.
    s.regs[i.code === op.LD_IMM64 ? i.dst : 0] = unknown();
  } else if (cls === op.JMP || cls === op.JMP32) {
    if (o === op.CALL) {
      helperWrites(i.imm, s, access);
      for (let r = 0; r <= 5; r++) s.regs[r] = unknown();
    } else if (o === op.JA) {
      next = [k + 1 + (cls === op.JMP32 ? i.imm : i.off)];
    } else {
      next = [k + 1, k + 1 + i.off];
    }
  }
  for (let r = 0; r <= 10; r++) if (s.regs[r] !== before[r]) s.wrote[r] = k;
  return next;
}

/** An ALU instruction's result: a pointer or a constant moved or offset by a constant, else unknown. */
function alu(cls: number, o: number, i: Insn, regs: Val[], unknown: () => Val): Val {
  const d = regs[i.dst]!;
  const byK = op.srcOf(i.code) === op.K;
  if (cls !== op.ALU64) return unknown();
  if (o === op.MOV) return byK ? { k: "const", v: i.imm } : regs[i.src]!;
  if ((o !== op.ADD && o !== op.SUB) || !byK) return unknown();
  const delta = o === op.ADD ? i.imm : -i.imm;
  if (d.k === "data" || d.k === "stack") return { k: d.k, off: d.off + delta };
  if (d.k === "const") return { k: "const", v: d.v + delta };
  return unknown();
}

/** A helper that writes R2 bytes at R1: the access is checked, and stack slots it overwrites no longer
 * hold a caller's register. */
function helperWrites(id: number, s: State, access: Access): void {
  const r1 = s.regs[1]!;
  const r2 = s.regs[2]!;
  if (!WRITES_R1_R2.has(id) || (r1.k !== "stack" && r1.k !== "data")) return;
  if (r2.k === "const") access(r1, 0, r2.v);
  if (r1.k !== "stack") return;
  forget(s, r1.off, r2.k === "const" ? r1.off + r2.v : 0);
}

/** The 8-byte slots overlapping [lo, hi) hold a caller's register no more. */
function forget(s: State, lo: number, hi: number): void {
  for (const slot of [...s.saved.keys()]) if (slot < hi && slot + 8 > lo) s.saved.delete(slot);
}

function checkAccess(found: Report, k: number, base: Val, off: number, size: number): void {
  const lo = (base.k === "stack" || base.k === "data" ? base.off : 0) + off;
  if (base.k === "stack" && (lo < -MODULE_STACK || lo + size > 0)) {
    found.add(
      k,
      "stack",
      `stack access at r10${lo < 0 ? lo : `+${lo}`} (${size} bytes) is outside the module's ${MODULE_STACK} bytes (r10-${MODULE_STACK} .. r10-1)`,
    );
  } else if (base.k === "data" && (lo < 0 || lo + size > USER_DATA_SIZE)) {
    found.add(
      k,
      "data",
      `access at data+${lo} (${size} bytes) is outside the ${USER_DATA_SIZE}-byte data area that R1 points to`,
    );
  }
}
