// kprobe-multi (fprobe): one program per skb position, attached to all its functions with one link (the
// link layer splits a refused batch to find the functions the kernel will not take).
import { attachKprobeMulti } from "../link/kprobe-multi.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";
import { type CloneReturns, savedParent } from "./clones.js";
import { groupBySkbPos, groupSuffix } from "./group.js";
import { ARG_REGS, AX } from "./pt-regs.js";

export class KprobeMultiBackend implements Backend {
  readonly name = "kprobe-multi" as const;

  units(points: AttachPoint[]): AttachUnit[] {
    return groupBySkbPos(points).map((g) => ({
      name: `kmulti_${groupSuffix(g)}`,
      points: g.points,
      isReturn: false,
      freeing: g.freeing,
      noNewPackets: g.noNewPackets,
      skb: { kind: "pt_regs", offset: ARG_REGS[g.skbPos - 1]! },
      func: { kind: "get_func_ip" },
      progType: ProgType.KPROBE,
      expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    return attachAll(progFd, unit.points, unit.isReturn, progress);
  }

  /** One kretprobe.multi program on every clone function (bpf_get_func_ip names it), and the entry
   * program on them all with one kprobe.multi link. */
  readonly clones: CloneReturns = {
    how: "kretprobe.multi",
    units: (points, savedFd) => [
      {
        name: "kretmulti_clone",
        points,
        isReturn: false,
        skb: { kind: "pt_regs", offset: AX },
        func: { kind: "get_func_ip" },
        progType: ProgType.KPROBE,
        expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
        clone: savedParent(savedFd),
      },
    ],
    attachReturn: (progFd, unit) => attachAll(progFd, unit.points, true),
    entry: {
      load: { type: ProgType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI },
      attach: (progFd, points) => attachAll(progFd, points, false),
    },
  };
}

function attachAll(
  progFd: number,
  points: AttachPoint[],
  atReturn: boolean,
  progress?: (ok: boolean) => void,
): AttachResult {
  const r = attachKprobeMulti(
    progFd,
    points.map((p) => p.name),
    atReturn,
    progress,
  );
  return {
    links: r.links,
    attached: r.attached.map((i) => points[i]!),
    failed: r.failed.map((f) => ({ point: points[f.index]!, errno: f.errno })),
  };
}
