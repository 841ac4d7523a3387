// Builds one main program per attach unit and loads it. A verifier rejection becomes an error that names
// the failing instruction and the verifier's reason (the whole log, module lines marked, under -v).
import { disasmProgram, encode } from "../asm/index.js";
import type { AttachUnit, Backend } from "../backends/backend.js";
import { UserError } from "../core/errors.js";
import { buildMainProgram, type MainProgram, type MainProgramSpec } from "../program/main-program.js";
import { loadProgram } from "../sys/bpf.js";
import { errnoName } from "../sys/errno.js";
import type { Built } from "./build.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";

/** Everything a main program needs besides its attach unit's own fields. */
export type ProgramInputs = Omit<
  MainProgramSpec,
  "skb" | "func" | "isReturn" | "freeing" | "noNewPackets" | "verdict" | "clone" | "devArg"
>;

export function mainProgramFor(unit: AttachUnit, inp: ProgramInputs): MainProgram {
  return buildMainProgram({
    ...inp,
    skb: unit.skb,
    func: unit.func,
    isReturn: unit.isReturn,
    ...(unit.freeing ? { freeing: true } : {}),
    ...(unit.noNewPackets ? { noNewPackets: true } : {}),
    ...(unit.verdict ? { verdict: unit.verdict } : {}),
    ...(unit.clone ? { clone: unit.clone } : {}),
    ...(unit.devArg !== undefined ? { devArg: unit.devArg } : {}),
  });
}

/** The kernel's verifier refused a program: the message names its reason, `detail` shows the failing
 * instruction with the few before it, `verboseDetail` the whole log (module lines marked). */
export class VerifierError extends UserError {
  constructor(
    readonly unit: string,
    readonly errno: number,
    readonly log: string,
  ) {
    const s = summarizeVerifierLog(log);
    super(
      `the kernel verifier rejected the program for ${unit} (${errnoName(errno)})${s.reason ? `: ${s.reason}` : ""}`,
      s.detail,
    );
    this.verboseDetail = log;
  }
}

const CONTEXT_LINES = 8;

/** The verifier walks the failing path last: its last instruction line is where it stopped, and the
 * lines after it (before the statistics) say why. */
export function summarizeVerifierLog(log: string): { reason: string; detail: string } {
  const lines = log.trimEnd().split("\n");
  let last = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\d+: \(/.test(lines[i]!)) {
      last = i;
      break;
    }
  }
  const isStats = (l: string) => /^(processed \d+ insns|verification time)/.test(l);
  const why = lines.slice(last + 1).filter((l) => l.trim() && !isStats(l));
  if (last < 0) return { reason: why[0] ?? "", detail: why.slice(1).join("\n") };
  const path = lines
    .slice(0, last + 1)
    .filter((l) => /^\d+: \(/.test(l))
    .slice(-CONTEXT_LINES - 1);
  const detail = [
    "the last instructions on the rejected path (the whole log: run with -v):",
    ...path.map(
      (l, i) => `${i === path.length - 1 ? "> " : "  "}${l.replace(/\s+;.*?(\s+<- module \d+)?$/, "$1")}`,
    ),
    ...why.map((l) => `  ${l}`),
  ].join("\n");
  return { reason: why.join("; "), detail };
}

export interface Loaded {
  /** -1 when the kernel cannot attach this kind of program to this function at all (see `why`). */
  fd: number;
  insnCount: number;
  why?: string;
}

/** The kernel refused the target before verifying a single instruction: for fentry/fexit, a prototype
 * it cannot build a trampoline for (more than 12 arguments, a struct returned by value...). That makes
 * the function untraceable by this backend; it says nothing about ipft's program or the module. */
function targetRefused(unit: AttachUnit, errno: number, log: string): string | undefined {
  if (unit.attachBtfId === undefined || errno !== 22 || !/processed 0 insns/.test(log)) return undefined;
  return log.split("\n").find((l) => l.trim() && !l.startsWith("processed ")) ?? "refused by the kernel";
}

export function loadUnit(unit: AttachUnit, inp: ProgramInputs): Loaded {
  const prog = mainProgramFor(unit, inp);
  const bytes = encode(prog.insns);
  const r = loadProgram({
    type: unit.progType,
    insns: bytes,
    name: `ipft_${unit.name}`,
    ...(unit.expectedAttachType !== undefined ? { expectedAttachType: unit.expectedAttachType } : {}),
    ...(unit.attachBtfId !== undefined ? { attachBtfId: unit.attachBtfId } : {}),
    ...(unit.attachBtfObjFd !== undefined ? { attachBtfObjFd: unit.attachBtfObjFd } : {}),
  });
  if (r.fd < 0) {
    const why = targetRefused(unit, r.errno, r.log);
    if (why) return { fd: -1, insnCount: 0, why };
    throw new VerifierError(unit.name, r.errno, markModule(r.log, prog));
  }
  return { fd: r.fd, insnCount: bytes.length / 8 };
}

/** The verifier prints "N: (op) text" per instruction it walks: tag the module's lines so a user sees
 * which part of the failing path was theirs. */
function markModule(log: string, prog: MainProgram): string {
  const tagged = log
    .split("\n")
    .map((line) => {
      const m = /^(\d+): \(/.exec(line);
      if (!m) return line;
      const i = Number(m[1]);
      return i >= prog.moduleStart && i < prog.moduleEnd
        ? `${line}    <- module ${i - prog.moduleStart}`
        : line;
    })
    .join("\n");
  return tagged.trimEnd();
}

/** `INDEX: HEX16  TEXT` lines of a whole program, module lines marked (for --gen program). */
export function listProgram(prog: MainProgram, helperName?: (id: number) => string | undefined): string[] {
  const lines = disasmProgram(prog.insns, helperName);
  return lines.map((l) => {
    const i = Number.parseInt(l, 10);
    return i >= prog.moduleStart && i < prog.moduleEnd ? `${l}    ; module` : l;
  });
}

export interface LoadedUnit {
  backend: Backend;
  unit: AttachUnit;
  fd: number;
}

export interface LoadedAll {
  loaded: LoadedUnit[];
  /** Units the kernel cannot attach this backend to (see loadUnit's `why`), said with -v. */
  refused: number;
  insns: number;
}

/** Loads every unit's program (all before any attach: a verifier rejection must stop the run before
 * anything is attached). Fds go to `kobj`. `stopped` is asked between programs. */
export function loadAll(
  built: Built,
  inputs: ProgramInputs,
  kobj: KernelObjects,
  io: SessionIo,
  stopped: () => boolean = () => false,
): LoadedAll {
  const res: LoadedAll = { loaded: [], refused: 0, insns: 0 };
  for (const { backend, units } of built.backends) {
    for (const unit of units) {
      if (stopped()) return res;
      const l = loadUnit(unit, inputs);
      if (l.fd < 0) {
        res.refused++;
        io.verbose(`${unit.points[0]?.name} (${backend.name}) is untraceable: ${l.why}`);
        continue;
      }
      res.loaded.push({ backend, unit, fd: kobj.add(l.fd) });
      res.insns += l.insnCount;
    }
  }
  return res;
}
