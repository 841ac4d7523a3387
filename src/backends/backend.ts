// What every backend provides: how its programs find the skb and the function (the attach units the main
// program is built for), and how a loaded program is attached. The syscalls live in src/link; what each
// backend can trace (skb position, argument count) is the plan's table.
import type { BackendName } from "../core/names.js";
import type { AttachPoint } from "../plan/attach-points.js";
import type { CloneSpec } from "../program/clone.js";
import type { FuncSource, SkbSource, VerdictSource } from "../program/main-program.js";
import type { CloneReturns } from "./clones.js";

/** One program and the attach points it serves. */
export interface AttachUnit {
  name: string;
  points: AttachPoint[];
  isReturn: boolean;
  /** Points of the skb's free path (plan/free-path.ts). */
  freeing?: boolean;
  /** Points where no packet starts (plan/late-free.ts): the program continues tracked packets only. */
  noNewPackets?: boolean;
  skb: SkbSource;
  func: FuncSource;
  progType: number;
  expectedAttachType?: number;
  attachBtfId?: number;
  attachBtfObjFd?: number;
  /** A tracepoint where packets end: the program also records the verdict. */
  verdict?: VerdictSource;
  /** The u64 slot of the context that holds the device this point is about (a tracepoint's own
   * `struct net_device *` argument, plan/device-args.ts): read instead of skb->dev. */
  devArg?: number;
  /** A clone function's return (backends/clones.ts): the program follows the returned skb. */
  clone?: CloneSpec;
}

export interface AttachFailure {
  point: AttachPoint;
  errno: number;
}

export interface AttachResult {
  links: number[];
  attached: AttachPoint[];
  failed: AttachFailure[];
}

export interface Backend {
  readonly name: BackendName;
  /** Groups attach points into programs. */
  units(points: AttachPoint[], withReturns: boolean): AttachUnit[];
  /** Attaches a loaded program to its unit's points; reports each point that failed. `progress` is
   * called after each point. Never throws for a single point's failure. */
  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult;
  /** How it follows clones and copies (backends/clones.ts); absent: it cannot (the tracepoint backend
   * sees no return value). */
  readonly clones?: CloneReturns;
  /** Points it cannot name to the kernel, left out of the plan (ftrace: functions of a module without a
   * BTF object). */
  unreachable?(points: AttachPoint[]): AttachPoint[];
}

/** Attaches each of `points` on its own with `one` (an fd, or -errno). */
export function attachEach(
  points: AttachPoint[],
  progress: (ok: boolean) => void,
  one: (p: AttachPoint) => number,
): AttachResult {
  const res: AttachResult = { links: [], attached: [], failed: [] };
  for (const p of points) {
    const fd = one(p);
    if (fd >= 0) {
      res.links.push(fd);
      res.attached.push(p);
    } else {
      res.failed.push({ point: p, errno: -fd });
    }
    progress(fd >= 0);
  }
  return res;
}
