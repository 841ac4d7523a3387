// kprobe-multi (fprobe): one BPF_LINK_CREATE attaches a program to many functions at once. One program per
// skb position. If the kernel refuses the batch, halve it until the functions it refuses are found.
import type { AttachPoint } from "../plan/attach-points.js";
import { linkCreateKprobeMulti } from "../sys/bpf.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";
import { groupBySkbPos } from "./group.js";
import { ARG_REGS } from "./pt-regs.js";

export class KprobeMultiBackend implements Backend {
  readonly name = "kprobe-multi" as const;
  readonly maxSkbPos = ARG_REGS.length;
  readonly returns = false;

  units(points: AttachPoint[]): AttachUnit[] {
    return groupBySkbPos(points).map(([pos, pts]) => ({
      name: `kmulti_skb${pos}`,
      points: pts,
      isReturn: false,
      skb: { kind: "pt_regs", offset: ARG_REGS[pos - 1]! },
      func: { kind: "get_func_ip" },
      progType: ProgType.KPROBE,
      expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    const res: AttachResult = { links: [], attached: [], failed: [] };
    const tryBatch = (pts: AttachPoint[]): void => {
      const fd = linkCreateKprobeMulti(
        progFd,
        pts.map((p) => p.name),
        unit.isReturn,
      );
      if (fd >= 0) {
        res.links.push(fd);
        res.attached.push(...pts);
        for (const _ of pts) progress(true);
        return;
      }
      if (pts.length === 1) {
        res.failed.push({ point: pts[0]!, errno: -fd });
        progress(false);
        return;
      }
      const half = pts.length >> 1;
      tryBatch(pts.slice(0, half));
      tryBatch(pts.slice(half));
    };
    if (unit.points.length > 0) tryBatch(unit.points);
    return res;
  }
}
