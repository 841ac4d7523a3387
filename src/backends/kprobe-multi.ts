// kprobe-multi (fprobe): one program per skb position, attached to all its functions with one link (the
// link layer splits a refused batch to find the functions the kernel will not take).
import { attachKprobeMulti } from "../link/kprobe-multi.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";
import { groupBySkbPos, groupSuffix } from "./group.js";
import { ARG_REGS } from "./pt-regs.js";

export class KprobeMultiBackend implements Backend {
  readonly name = "kprobe-multi" as const;

  units(points: AttachPoint[]): AttachUnit[] {
    return groupBySkbPos(points).map((g) => ({
      name: `kmulti_${groupSuffix(g)}`,
      points: g.points,
      isReturn: false,
      freeing: g.freeing,
      skb: { kind: "pt_regs", offset: ARG_REGS[g.skbPos - 1]! },
      func: { kind: "get_func_ip" },
      progType: ProgType.KPROBE,
      expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    const pts = unit.points;
    const r = attachKprobeMulti(
      progFd,
      pts.map((p) => p.name),
      unit.isReturn,
      progress,
    );
    return {
      links: r.links,
      attached: r.attached.map((i) => pts[i]!),
      failed: r.failed.map((f) => ({ point: pts[f.index]!, errno: f.errno })),
    };
  }
}
