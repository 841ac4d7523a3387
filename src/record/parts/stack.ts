// The stack part (--stack): the kernel stack at this event, stack_depth (the record's head) return
// addresses of 8 bytes, innermost first (bpf_get_stack: the tracing machinery's own frames come first, then
// the function the event is in, then its callers). --stack drops takes them at the drop tracepoint only,
// --stack all at every event. Stacks print under the event's line as a kernel prints one, from the
// kernel's own code on:
//       at kfree_skb_reason+0x9d
//       at __udp4_lib_rcv+0x5e1
// and in json as `"stack":["kfree_skb_reason+0x9d",...]`; the trace file keeps the addresses in ipft's
// event option and names each one once (the NAMES option's "frames").
// It is the last part: it leaves R9 as it found it (a part after it would need the bytes it took there).
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R3, R4, R6, R8 } from "../../asm/opcodes.js";
import { Helper } from "../../sys/bpf-abi.js";
import { MAX_STACK_DEPTH, OFF_STACK_DEPTH, readStackDepth, VERDICT_DROP } from "../record.js";
import { definePart, type EventPart, type FillContext, type FrameNamer, partPointer } from "./part.js";

/** Where stacks are taken: nowhere, at the drop tracepoint (kfree_skb), or at every event. */
export const STACK_MODES = ["off", "drops", "all"] as const;
export type StackMode = (typeof STACK_MODES)[number];

/** How many return addresses a unit's program takes (0: none). */
export function stackDepthFor(mode: StackMode, verdictKind: number | undefined): number {
  if (mode === "all" || (mode === "drops" && verdictKind === VERDICT_DROP)) return MAX_STACK_DEPTH;
  return 0;
}

/** The return addresses at `at` (from the record's start `off`), innermost first. */
export function stackAt(dv: DataView, off: number, at: number): bigint[] {
  const n = readStackDepth(dv, off);
  const p = off + at;
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) out[i] = dv.getBigUint64(p + 8 * i, true);
  return out;
}

/** Calls `each` with every return address's two 32-bit halves (no bigint). */
export function stackHalves(
  dv: DataView,
  off: number,
  at: number,
  each: (lo: number, hi: number) => void,
): void {
  const n = readStackDepth(dv, off);
  const p = off + at;
  for (let i = 0; i < n; i++) each(dv.getUint32(p + 8 * i, true), dv.getUint32(p + 8 * i + 4, true));
}

/** The frames bpf_get_stack returns first are the tracing machinery's: ipft's program itself (a JIT
 * address kallsyms may not name), then the code that ran it (bpf_trace_run4 for a tracepoint, the kprobe,
 * fprobe or trampoline entry for the others). They are left out up to the first frame of the kernel's own
 * code: the function the event is in, which then reads first. A frame kallsyms places in BPF's own
 * address space (` [bpf]`: JIT'd programs, dispatchers, trampolines) is always the machinery's, whatever
 * the nearest name there is (a program kallsyms does not list reads as the symbol before it,
 * bpf_dispatcher_xdp+0x1c6e [bpf]). */
const MACHINERY =
  /^(0x[0-9a-f]+$|bpf_prog_|bpf_trace_run|__bpf_trace_|__traceiter_|bpf_trampoline_|__bpf_prog_enter|kprobe_|kprobe_ftrace_handler|fprobe_|ftrace_|arch_ftrace_|rethook_|arch_rethook_|optimized_callback|opt_pre_handler|aggr_pre_handler|pre_handler_kretprobe|trace_call_bpf|kprobe_perf_func|kprobe_dispatcher|kprobe_multi_link_|ftrace_trampoline|ftrace_regs_caller|asm_exc_int3|exc_int3|do_int3)/;

/** Frames from the first one that is not the tracing machinery's (all of them if every one is). */
export function kernelFrames(names: string[]): string[] {
  let i = 0;
  while (i < names.length && (MACHINERY.test(names[i]!) || names[i]!.endsWith(" [bpf]"))) i++;
  return i < names.length ? names.slice(i) : names;
}

/** The indent of a stack frame under its event's line. */
export const FRAME_INDENT = "    at ";

/** The frames' names, innermost first, from the kernel's own code on. */
export const stackNames = (addrs: readonly bigint[], frame: FrameNamer): string[] =>
  kernelFrames(addrs.map(frame));

/** `    at f+0x1\n` per frame. */
export function stackLines(addrs: readonly bigint[], frame: FrameNamer): string {
  let s = "";
  for (const f of stackNames(addrs, frame)) s += `${FRAME_INDENT}${f}\n`;
  return s;
}

const JSON_KEYS = ["stack"] as const;
const K_STACK = JSON.stringify(JSON_KEYS[0]);

export const STACK: EventPart = definePart({
  name: "stack",
  json: JSON_KEYS,
  size: (dv, off) => 8 * readStackDepth(dv, off),
  room: (req, verdictKind) => 8 * stackDepthFor(req.stack, verdictKind),
  runTimeSize: true,
  fill,
  printJson(dv, off, at, frame) {
    if (readStackDepth(dv, off) === 0) return "";
    return `,${K_STACK}:[${stackNames(stackAt(dv, off, at), frame)
      .map((f) => JSON.stringify(f))
      .join(",")}]`;
  },
  printText: (dv, off, at, frame) =>
    readStackDepth(dv, off) === 0 ? "" : stackLines(stackAt(dv, off, at), frame),
  file: "option",
});

/** bpf_get_stack into the part; stack_depth = the addresses it wrote. */
function fill(ctx: FillContext, room: number): Insn[] {
  return [
    ...partPointer(ctx),
    asm.mov64Reg(R1, R6),
    asm.mov64Imm(R3, room),
    asm.mov64Imm(R4, 0),
    asm.call(Helper.get_stack),
    asm.jmpImm(asm.JSLE, R0, 0, ctx.next),
    asm.alu64Imm(asm.RSH, R0, 3),
    asm.stxMem(asm.B, R8, R0, OFF_STACK_DEPTH),
  ];
}
