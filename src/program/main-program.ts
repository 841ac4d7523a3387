// ipft's main eBPF program (the manual calls it the "caller"): keep the selected packets (the mark, a pcap
// filter, the device, the namespace, or tracked since: program/selection.ts), build the 128-byte record on
// the stack, fall into the user's module (inlined, not called), then send the record to the ring buffer.
// The register and stack contract with the module is the scripting manual's ABI:
//   R1 = &record.data (64 bytes), R2 = ctx, R3 = skb, R4 = 0; R6-R9 are the caller's and must survive.
// Every other register holds a defined value too (R0 = R8 = R9 = 0), so a module may read or save any of
// R0-R9 at entry (ipftrace2's scripts save all of R6-R9 on their stack and restore them at the end).
// R5 tells the module whether this event ends the packet: 0 on most events; at the verdict tracepoints,
// the verdict (1 dropped, 2 consumed) in its low 8 bits and the drop reason (enum skb_drop_reason) above.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 } from "../asm/opcodes.js";
import { FLAG_CLONE, FLAG_FREEING, FLAG_RETURN, VERDICT_CONSUME } from "../record/record.js";
import type { CodeRange } from "../symbols/index.js";
import { Helper } from "../sys/bpf-abi.js";
import { type CloneSpec, emitCloneSelection } from "./clone.js";
import { extrasOutput, type PartsRequest, partsAt } from "./extras.js";
import { emitFunc, type FuncSource } from "./func-source.js";
import { countPerCpu } from "./map-call.js";
import { emitSelection, type LateFreeTest, type SelectSpec } from "./selection.js";
import {
  REC_CPU,
  REC_FLAGS,
  REC_FUNC,
  REC_LOCATION,
  REC_REASON,
  REC_SKB,
  REC_TSTAMP,
  REC_VERDICT,
  RECORD,
  RECORD_SIZE,
  SCRATCH_CLONE_PARENT,
  SCRATCH_KEY,
  USER_DATA,
} from "./stack-layout.js";
import { emitTrackRecord } from "./track-map.js";

/** Where the skb pointer is: a slot of the u64 argument array (raw tracepoints, fentry), or a pt_regs
 * field (kprobe). */
export type SkbSource = { kind: "args"; index: number } | { kind: "pt_regs"; offset: number };

/** A tracepoint where packets end (plan/verdict-points.ts): the verdict to record (VERDICT_DROP or
 * VERDICT_CONSUME), and which of its arguments (u64 slots of the raw tracepoint's context) hold the
 * location (a code address) and the enum skb_drop_reason, where it has them. */
export interface VerdictSource {
  kind: number;
  locationArg?: number;
  reasonArg?: number;
  /** The socket a received packet was for (kfree_skb's rx_sk, since 6.11). */
  sockArg?: number;
}

export type { FuncSource };

export interface MainProgramSpec {
  skb: SkbSource;
  func: FuncSource;
  isReturn: boolean;
  /** A point of the skb's free path (plan/free-path.ts): the record says so, and a packet that has
   * reached its verdict continues here (its track id) rather than a new one starting. */
  freeing?: boolean;
  /** A point where no packet starts (plan/late-free.ts): with tracking, only tracked packets are traced. */
  noNewPackets?: boolean;
  /** The code of the late free (plan/late-free.ts): at consume_skb, where it has a location, a packet not
   * tracked yet that is freed from there is not traced (counted apart with tracking). */
  lateFree?: CodeRange;
  /** Only with `skb.kind === "args"` (raw tracepoints). */
  verdict?: VerdictSource;
  /** A u64 slot of the context holding the device this point is about (a tracepoint's net_device
   * argument): the device part and the device and namespace tests read it instead of skb->dev. */
  devArg?: number;
  markOffset: number; // offsetof(struct sk_buff, mark), from BTF
  mark: number;
  mask: number;
  ringFd: number;
  lostFd: number;
  /** bpf_probe_read_kernel where the kernel has it, else bpf_probe_read. */
  probeRead: number;
  /** The user's module (already checked by the ABI guard). */
  module: Insn[];
  /** -w / --snaplen / --stack: the record is sent with its parts (src/program/extras.ts). */
  extras?: PartsRequest;
  /** Tests besides (or instead of) the mark, and tracking; without it, the mark test alone. */
  select?: SelectSpec;
  /** A clone function's return: the skb is the returned one, followed when its parent is tracked
   * (program/clone.ts), and the event is a clone event. Needs tracking in `select`. */
  clone?: CloneSpec;
}

export interface MainProgram {
  insns: Insn[];
  /** Slot range [start, end) of the module inside the program, for --gen program and verifier logs. */
  moduleStart: number;
  moduleEnd: number;
}

export function buildMainProgram(spec: MainProgramSpec): MainProgram {
  const select = spec.select ?? { markTest: true };
  const isVerdict = spec.verdict !== undefined && spec.skb.kind === "args";
  const pre: Insn[] = [
    ...selectPacket(spec, select, isVerdict),
    ...recordHeader(spec, select, isVerdict),
    ...moduleEntry(spec),
  ];

  const x = spec.extras;
  const parts = partsAt(x, spec.verdict?.kind);
  const withExtras = x !== undefined && parts.length > 0;
  const send: Insn[] = withExtras
    ? extrasOutput({
        req: x,
        parts,
        ringFd: spec.ringFd,
        probeRead: spec.probeRead,
        ...(spec.devArg !== undefined ? { devArg: spec.devArg } : {}),
        ...(spec.verdict?.sockArg !== undefined && spec.skb.kind === "args"
          ? { sockArg: spec.verdict.sockArg }
          : {}),
        out: "out",
        lost: "lost",
      })
    : [
        asm.ldMapFd(R1, spec.ringFd),
        asm.mov64Reg(R2, R10),
        asm.alu64Imm(asm.ADD, R2, RECORD),
        asm.mov64Imm(R3, RECORD_SIZE),
        asm.mov64Imm(R4, 0),
        asm.call(Helper.ringbuf_output),
        asm.jmpImm(asm.JEQ, R0, 0, "out"),
      ];
  const post: Insn[] = [
    ...send,
    // The ring was full: count the lost trace (per-CPU slot, so no atomic needed).
    ...labelFirst(withExtras ? "lost" : undefined, countPerCpu(spec.lostFd, SCRATCH_KEY, 0, "out")),
    { ...asm.mov64Imm(R0, 0), label: "out" },
    asm.exit(),
  ];

  const moduleStart = slotCount(pre);
  const moduleEnd = moduleStart + slotCount(spec.module);
  return { insns: [...pre, ...spec.module, ...post], moduleStart, moduleEnd };
}

function labelFirst(label: string | undefined, insns: Insn[]): Insn[] {
  return label === undefined ? insns : [asm.label(label, insns[0]!), ...insns.slice(1)];
}

function slotCount(insns: Insn[]): number {
  let n = 0;
  for (const i of insns) n += i.imm64 !== undefined ? 2 : 1;
  return n;
}

/** R6 = ctx, R7 = the skb; then the selection (or a clone's): a packet not traced jumps to `out`. */
function selectPacket(spec: MainProgramSpec, select: SelectSpec, isVerdict: boolean): Insn[] {
  const pre: Insn[] = [];
  pre.push(asm.mov64Reg(R6, R1));
  if (spec.skb.kind === "args") pre.push(asm.ldxMem(asm.DW, R7, R6, spec.skb.index * 8));
  else pre.push(asm.ldxMem(asm.DW, R7, R6, spec.skb.offset));
  if (spec.clone) {
    // A clone of a tracked packet (its own NULL check: the saved parent is taken out first).
    pre.push(...emitCloneSelection(spec.clone, select, spec.probeRead, spec.func, "out"));
  } else {
    // A NULL skb is nothing to trace; for fentry the check also turns the BTF pointer the verifier calls
    // "maybe null" into one it lets the program (and the module) do arithmetic on.
    pre.push(asm.jmpImm(asm.JEQ, R7, 0, "out"));
    // Which packets: the mark test alone, or the selection (program/selection.ts). A function's return
    // and the free path come after a verdict: the packet that ended continues there.
    const afterVerdict = spec.isReturn || spec.freeing === true;
    pre.push(
      ...emitSelection(select, spec, spec.func, "out", {
        isVerdict,
        afterVerdict,
        ...(spec.noNewPackets ? { noNewPackets: true } : {}),
        ...(spec.devArg !== undefined ? { devArg: spec.devArg } : {}),
        ...lateFreeAt(spec, isVerdict),
      }),
    );
  }
  return pre;
}

/** At consume_skb with its location: where the late free's location is, and its code. */
function lateFreeAt(spec: MainProgramSpec, isVerdict: boolean): { lateFree?: LateFreeTest } {
  const v = spec.verdict;
  if (!isVerdict || !spec.lateFree || v?.kind !== VERDICT_CONSUME || v.locationArg === undefined) return {};
  return { lateFree: { locationArg: v.locationArg, ...spec.lateFree } };
}

/** The record on the stack, zeroed, then its fields: skb, time, function, CPU, flags, the clone's parent,
 * the verdict, the track id. */
function recordHeader(spec: MainProgramSpec, select: SelectSpec, isVerdict: boolean): Insn[] {
  const pre: Insn[] = [];
  // Zero the record (the user data must start zeroed and the verifier wants initialised stack).
  for (let off = RECORD; off < RECORD + RECORD_SIZE; off += 8) pre.push(asm.stMem(asm.DW, R10, off, 0));
  pre.push(asm.stxMem(asm.DW, R10, R7, REC_SKB));
  pre.push(asm.call(Helper.ktime_get_ns), asm.stxMem(asm.DW, R10, R0, REC_TSTAMP));
  pre.push(...emitFunc(spec.func, R0), asm.stxMem(asm.DW, R10, R0, REC_FUNC));
  pre.push(asm.call(Helper.get_smp_processor_id), asm.stxMem(asm.W, R10, R0, REC_CPU));
  const flags =
    (spec.isReturn ? FLAG_RETURN : 0) | (spec.freeing ? FLAG_FREEING : 0) | (spec.clone ? FLAG_CLONE : 0);
  if (flags !== 0) pre.push(asm.stMem(asm.W, R10, REC_FLAGS, flags));
  if (spec.clone)
    pre.push(asm.ldxMem(asm.DW, R1, R10, SCRATCH_CLONE_PARENT), asm.stxMem(asm.DW, R10, R1, REC_LOCATION));
  if (spec.verdict && isVerdict) {
    const v = spec.verdict;
    pre.push(asm.stMem(asm.W, R10, REC_VERDICT, v.kind));
    if (v.locationArg !== undefined)
      pre.push(asm.ldxMem(asm.DW, R1, R6, v.locationArg * 8), asm.stxMem(asm.DW, R10, R1, REC_LOCATION));
    if (v.reasonArg !== undefined)
      pre.push(asm.ldxMem(asm.DW, R1, R6, v.reasonArg * 8), asm.stxMem(asm.W, R10, R1, REC_REASON));
  }

  pre.push(...emitTrackRecord(select.track));
  return pre;
}

/** The module's entry state (the scripting manual's ABI): R1 = the user data, R2 = ctx, R3 = skb, R5 = the
 * verdict and reason; the other registers zero. */
function moduleEntry(spec: MainProgramSpec): Insn[] {
  const pre: Insn[] = [];
  if (spec.verdict && spec.skb.kind === "args")
    pre.push(
      asm.ldxMem(asm.W, R5, R10, REC_REASON),
      asm.alu64Imm(asm.LSH, R5, 8),
      asm.ldxMem(asm.W, R0, R10, REC_VERDICT),
      asm.alu64Reg(asm.OR, R5, R0),
    );
  else pre.push(asm.mov64Imm(R5, 0));
  pre.push(
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, USER_DATA),
    asm.mov64Reg(R2, R6),
    asm.mov64Reg(R3, R7),
    asm.mov64Imm(R4, 0),
    asm.mov64Imm(R8, 0),
    asm.mov64Imm(R9, 0),
    asm.mov64Imm(R0, 0),
  );
  return pre;
}
