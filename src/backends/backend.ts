// What every backend provides: how its programs find the skb and the function, how they are loaded, and how
// they are attached. Backends only attach; building the program is src/program's job.

import type { BackendName } from "../core/names.js";
import type { AttachPoint } from "../plan/attach-points.js";
import type { FuncSource, SkbSource } from "../program/main-program.js";

/** One program and the attach points it serves. */
export interface AttachUnit {
  name: string;
  points: AttachPoint[];
  isReturn: boolean;
  skb: SkbSource;
  func: FuncSource;
  progType: number;
  expectedAttachType?: number;
  attachBtfId?: number;
  attachBtfObjFd?: number;
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
  /** Highest 1-based skb position this backend can read. */
  readonly maxSkbPos: number;
  /** Whether it can report function returns (function_graph). */
  readonly returns: boolean;
  /** Groups attach points into programs. */
  units(points: AttachPoint[], withReturns: boolean): AttachUnit[];
  /** Attaches a loaded program to its unit's points; reports each point that failed. `progress` is
   * called after each point. Never throws for a single point's failure. */
  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult;
}
