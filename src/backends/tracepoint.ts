// Raw tracepoints that carry an skb: one small program per tracepoint (the record's function field is a
// constant naming it), attached by name.
import { attachRawTracepoint } from "../link/raw-tracepoint.js";
import type { AttachPoint } from "../plan/attach-points.js";
import type { VerdictSource } from "../program/main-program.js";
import { ProgType } from "../sys/bpf-abi.js";
import { type AttachResult, type AttachUnit, attachEach, type Backend } from "./backend.js";

export class TracepointBackend implements Backend {
  readonly name = "tracepoint" as const;

  constructor(
    private readonly idOf: (p: AttachPoint) => bigint,
    private readonly verdicts: ReadonlyMap<AttachPoint, VerdictSource> = new Map(),
    private readonly devArgs: ReadonlyMap<AttachPoint, number> = new Map(),
  ) {}

  units(points: AttachPoint[]): AttachUnit[] {
    return points.map((p) => {
      const verdict = this.verdicts.get(p);
      const devArg = this.devArgs.get(p);
      return {
        name: p.name,
        points: [p],
        isReturn: false,
        skb: { kind: "args", index: p.skbPos - 1 },
        func: { kind: "const", value: this.idOf(p) },
        progType: ProgType.RAW_TRACEPOINT,
        ...(verdict ? { verdict } : {}),
        ...(devArg !== undefined ? { devArg } : {}),
      };
    });
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    return attachEach(unit.points, progress, (p) => attachRawTracepoint(progFd, p.name));
  }
}
