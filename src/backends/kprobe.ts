// kprobes through the kprobe PMU, one perf event per function, all sharing one program per skb position.
import { attachKprobe } from "../link/kprobe.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { ProgType } from "../sys/bpf-abi.js";
import type { KprobePmu } from "../sys/perf.js";
import { type AttachResult, type AttachUnit, attachEach, type Backend } from "./backend.js";
import { type CloneReturns, noProgress, savedParent } from "./clones.js";
import { groupBySkbPos, groupSuffix } from "./group.js";
import { ARG_REGS, AX, IP } from "./pt-regs.js";

export class KprobeBackend implements Backend {
  readonly name = "kprobe" as const;

  /** useFuncIp: the kernel lets kprobe programs call bpf_get_func_ip (exact address, IBT-aware). */
  constructor(
    private readonly pmu: KprobePmu | undefined,
    private readonly useFuncIp: boolean,
  ) {}

  units(points: AttachPoint[]): AttachUnit[] {
    return groupBySkbPos(points).map((g) => ({
      name: `kprobe_${groupSuffix(g)}`,
      points: g.points,
      isReturn: false,
      freeing: g.freeing,
      noNewPackets: g.noNewPackets,
      skb: { kind: "pt_regs", offset: ARG_REGS[g.skbPos - 1]! },
      func: this.useFuncIp ? { kind: "get_func_ip" } : { kind: "regs_ip", offset: IP },
      progType: ProgType.KPROBE,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    return attachEach(unit.points, progress, (p) => attachKprobe(progFd, this.pmu, p.name));
  }

  /** One kretprobe program per clone function (a constant names it), and a kprobe on each for the entry
   * program. */
  readonly clones: CloneReturns = {
    how: "kretprobe",
    units: (points, savedFd, idOf) =>
      points.map((p) => ({
        name: `kretprobe_clone_${p.name}`,
        points: [p],
        isReturn: false,
        skb: { kind: "pt_regs", offset: AX },
        func: { kind: "const", value: idOf(p) },
        progType: ProgType.KPROBE,
        clone: savedParent(savedFd),
      })),
    attachReturn: (progFd, unit) =>
      attachEach(unit.points, noProgress, (p) => attachKprobe(progFd, this.pmu, p.name, true)),
    entry: {
      load: { type: ProgType.KPROBE },
      attach: (progFd, points) =>
        attachEach(points, noProgress, (p) => attachKprobe(progFd, this.pmu, p.name, false)),
    },
  };
}
