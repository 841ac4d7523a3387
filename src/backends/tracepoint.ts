// Raw tracepoints that carry an skb: one small program per tracepoint (the record's function field is a
// constant naming it), attached with BPF_RAW_TRACEPOINT_OPEN. The link is an fd: it dies with ipft.
import type { AttachPoint } from "../plan/attach-points.js";
import { rawTracepointOpen } from "../sys/bpf.js";
import { ProgType } from "../sys/bpf-abi.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";

export class TracepointBackend implements Backend {
  readonly name = "tracepoint" as const;
  readonly maxSkbPos = 12;
  readonly returns = false;

  constructor(private readonly idOf: (p: AttachPoint) => bigint) {}

  units(points: AttachPoint[]): AttachUnit[] {
    return points.map((p) => ({
      name: p.name,
      points: [p],
      isReturn: false,
      skb: { kind: "args", index: p.skbPos - 1 },
      func: { kind: "const", value: this.idOf(p) },
      progType: ProgType.RAW_TRACEPOINT,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    const res: AttachResult = { links: [], attached: [], failed: [] };
    for (const p of unit.points) {
      const fd = rawTracepointOpen(progFd, p.name);
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
}
