// How a function backend follows clones and copies (program/clone.ts): each backend that can says so with
// its own CloneReturns (its file):
//   ftrace        one fexit program per clone function (it sees the arguments and the return value)
//   kprobe        one kretprobe program per clone function, and one entry program (a kprobe on each)
//   kprobe-multi  one kretprobe.multi program on all of them, and one entry program (one kprobe.multi link)
// The tracepoint backend sees no return value: it cannot follow clones.
import type { AttachPoint } from "../plan/attach-points.js";
import type { CloneSpec } from "../program/clone.js";
import type { AttachResult, AttachUnit } from "./backend.js";
import { ARG_REGS } from "./pt-regs.js";

export interface CloneReturns {
  /** What the return programs are, for the tracking note. */
  readonly how: string;
  /** The return programs' units. savedFd: the saved-parent hash (with an entry program); idOf: a constant
   * naming a function in the record, where one program serves one function. */
  units(points: AttachPoint[], savedFd: number, idOf: (p: AttachPoint) => bigint): AttachUnit[];
  attachReturn(progFd: number, unit: AttachUnit): AttachResult;
  /** The kprobe backends save the parent at entry (a return probe sees only the return value): the entry
   * program's load attributes and its attachment. */
  readonly entry?: {
    load: { type: number; expectedAttachType?: number };
    attach(progFd: number, points: AttachPoint[]): AttachResult;
  };
}

/** Where the entry program finds the parent: the first argument's register. */
export const CLONE_PARENT_REG = ARG_REGS[0]!;

/** The parent, saved at entry in the hash `savedFd`. */
export const savedParent = (savedFd: number): CloneSpec => ({ parent: { kind: "saved", mapFd: savedFd } });

/** Attaching a clone program reports nothing as it goes (the follower says what attached). */
export const noProgress = (): void => {};
