// Clones and copies of tracked packets. skb_clone, skb_copy, __pskb_copy_fclone and skb_copy_expand (the
// list is src/plan/clone-points.ts) return a new skb made from their first argument. When that argument is
// a tracked packet, the new skb enters the tracking map with its own track id (its first-seen time: it is
// another packet, with its own journey and verdict), and the program at the function's return sends its
// first event, a clone event: the record is the new skb's, flagged FLAG_CLONE, with the parent's address in
// the location field (record/record.ts).
//
// The return program is a main program (the module, extras and ring output as everywhere) whose selection
// is emitCloneSelection below instead of program/selection.ts's tests: the clone is never tested for the
// mark or the filter, it is followed because its parent is.
//
// Where the parent comes from at the return:
//   fexit (ftrace backend)  the arguments are still in the context: args[0] is the parent, args[nargs] the
//                           returned skb. The parent is looked up there (with its fingerprint, as the
//                           selection does).
//   kretprobe, kretprobe.multi (kprobe, kprobe-multi backends)  a return probe sees only the return value
//                           (pt_regs ax), so an entry program (buildCloneEntryProgram) looks the parent up
//                           when the function is called and, when it is tracked, saves its address in a
//                           hash keyed by pid_tgid; the return program takes it out again. The key is the
//                           task: these functions do not call one another, so one task has one call in
//                           flight, except when an interrupt on the same task clones a tracked packet
//                           between an entry and its return (the outer call's clone is then missed, never
//                           linked to the wrong parent). An entry whose return never ran (a missed
//                           kretprobe) is overwritten or deleted by the task's next call, tracked parent or
//                           not, so it cannot link a later clone. The hash is an LRU: it never fills up.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R6, R7, R10 } from "../asm/opcodes.js";
import { Helper } from "../sys/bpf-abi.js";
import type { FuncSource } from "./func-source.js";
import { mapDelete, mapLookup, mapUpdate } from "./map-call.js";
import type { SelectSpec } from "./selection.js";
import type { SkbLayout } from "./skb-layout.js";
import { SCRATCH_CLONE_KEY, SCRATCH_CLONE_PARENT, SCRATCH_TRACK_KEY } from "./stack-layout.js";
import { type TrackSpec, trackInsert, trackLookup } from "./track-map.js";

/** Where a clone function's return program finds the parent. */
export type CloneParent =
  | { kind: "args"; index: number } // fexit: a slot of the u64 argument array
  | { kind: "saved"; mapFd: number }; // saved at entry, keyed by pid_tgid

export interface CloneSpec {
  parent: CloneParent;
}

/** The saved-parent hash: pid_tgid (u64) -> the parent's skb address (u64). */
export const CLONE_SAVED_KEY_SIZE = 8;
export const CLONE_SAVED_VALUE_SIZE = 8;

/** The trackLookup labels, renamed so that a program may hold it beside the selection's own. */
function renamed(insns: Insn[], prefix: string): Insn[] {
  const r = (n: string | undefined) => (n?.startsWith("sel_") ? `${prefix}${n.slice(4)}` : n);
  return insns.map((i) => {
    if (i.label === undefined && i.target === undefined) return i;
    const out: Insn = { ...i };
    if (i.label !== undefined) out.label = r(i.label)!;
    if (i.target !== undefined) out.target = r(i.target)!;
    return out;
  });
}

function needTrack(sel: SelectSpec): { t: TrackSpec; l: SkbLayout } {
  if (!sel.track || !sel.layout) throw new Error("clone programs need tracking and the skb layout");
  return { t: sel.track, l: sel.layout };
}

/** The return program's selection. On entry R6 = ctx and R7 = the returned skb (not yet checked for
 * NULL). Jumps to `out` unless the parent is tracked and the clone exists; falls through with R7 = the
 * clone, R8 = its new track id (it is in the tracking map now), the parent's address at
 * SCRATCH_CLONE_PARENT. */
export function emitCloneSelection(
  c: CloneSpec,
  sel: SelectSpec,
  probeRead: number,
  func: FuncSource,
  out: string,
): Insn[] {
  const { t, l } = needTrack(sel);
  const p: Insn[] = [];
  if (c.parent.kind === "args") {
    p.push(
      asm.jmpImm(asm.JEQ, R7, 0, out),
      asm.stxMem(asm.DW, R10, R7, SCRATCH_CLONE_KEY),
      asm.ldxMem(asm.DW, R7, R6, c.parent.index * 8),
      asm.jmpImm(asm.JEQ, R7, 0, out),
      asm.stxMem(asm.DW, R10, R7, SCRATCH_CLONE_PARENT),
      ...renamed(trackLookup(t, l, probeRead, false, false), "clp_"),
      asm.label("clp_untracked", asm.ja(out)),
      asm.label("clp_done", asm.ldxMem(asm.DW, R7, R10, SCRATCH_CLONE_KEY)),
    );
  } else {
    const fd = c.parent.mapFd;
    p.push(
      asm.call(Helper.get_current_pid_tgid),
      asm.stxMem(asm.DW, R10, R0, SCRATCH_CLONE_KEY),
      ...mapLookup(fd, SCRATCH_CLONE_KEY),
      asm.jmpImm(asm.JEQ, R0, 0, out),
      asm.ldxMem(asm.DW, R1, R0, 0),
      asm.stxMem(asm.DW, R10, R1, SCRATCH_CLONE_PARENT),
      ...mapDelete(fd, SCRATCH_CLONE_KEY),
      asm.jmpImm(asm.JEQ, R7, 0, out),
    );
  }
  // The clone's own entry, keyed by its address: its track id is now.
  p.push(asm.stxMem(asm.DW, R10, R7, SCRATCH_TRACK_KEY), ...trackInsert(t, l, probeRead, false, func));
  return p;
}

export interface CloneEntrySpec {
  select: SelectSpec;
  probeRead: number;
  savedFd: number;
  /** The parent's place in pt_regs (the first argument's register). */
  parentOffset: number;
}

/** The entry program of the kprobe backends: saves a tracked parent for the return program, and forgets
 * what this task saved before otherwise. */
export function buildCloneEntryProgram(s: CloneEntrySpec): Insn[] {
  const { t, l } = needTrack(s.select);
  const [first, ...forget] = mapDelete(s.savedFd, SCRATCH_CLONE_KEY);
  return [
    asm.mov64Reg(R6, R1),
    asm.ldxMem(asm.DW, R7, R6, s.parentOffset),
    asm.call(Helper.get_current_pid_tgid),
    asm.stxMem(asm.DW, R10, R0, SCRATCH_CLONE_KEY),
    asm.jmpImm(asm.JEQ, R7, 0, "cle_untracked"),
    ...renamed(trackLookup(t, l, s.probeRead, false, false), "cle_"),
    asm.label("cle_untracked", first!),
    ...forget,
    asm.ja("cle_out"),
    asm.label("cle_done", asm.stxMem(asm.DW, R10, R7, SCRATCH_CLONE_PARENT)),
    ...mapUpdate(s.savedFd, SCRATCH_CLONE_KEY, SCRATCH_CLONE_PARENT),
    asm.label("cle_out", asm.mov64Imm(R0, 0)),
    asm.exit(),
  ];
}
