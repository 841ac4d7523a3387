// kprobes through the kprobe PMU (perf_event_open), one perf event per function, all sharing one program
// per skb position; attached with BPF_LINK_CREATE, or the older PERF_EVENT_IOC_SET_BPF. All fd-based.
import type { AttachPoint } from "../plan/attach-points.js";
import { linkCreatePerfEvent } from "../sys/bpf.js";
import { ProgType } from "../sys/bpf-abi.js";
import { close, ioctl } from "../sys/libc.js";
import { type KprobePmu, openKprobe } from "../sys/perf.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";
import { groupBySkbPos } from "./group.js";
import { ARG_REGS, IP } from "./pt-regs.js";

const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;

export class KprobeBackend implements Backend {
  readonly name = "kprobe" as const;
  readonly maxSkbPos = ARG_REGS.length;
  readonly returns = false;

  /** useFuncIp: the kernel lets kprobe programs call bpf_get_func_ip (exact address, IBT-aware). */
  constructor(
    private readonly pmu: KprobePmu | undefined,
    private readonly useFuncIp: boolean,
  ) {}

  units(points: AttachPoint[]): AttachUnit[] {
    return groupBySkbPos(points).map(([pos, pts]) => ({
      name: `kprobe_skb${pos}`,
      points: pts,
      isReturn: false,
      skb: { kind: "pt_regs", offset: ARG_REGS[pos - 1]! },
      func: this.useFuncIp ? { kind: "get_func_ip" } : { kind: "regs_ip", offset: IP },
      progType: ProgType.KPROBE,
    }));
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    const res: AttachResult = { links: [], attached: [], failed: [] };
    for (const p of unit.points) {
      const pfd = this.pmu ? openKprobe(this.pmu, p.name, false) : -95;
      if (pfd < 0) {
        res.failed.push({ point: p, errno: -pfd });
        progress(false);
        continue;
      }
      let link = linkCreatePerfEvent(progFd, pfd);
      if (link >= 0) {
        close(pfd); // the link holds the perf event
        res.links.push(link);
      } else {
        // Kernels before 5.15: attach through the perf fd itself, which must then stay open.
        link = ioctl(pfd, PERF_EVENT_IOC_SET_BPF, progFd);
        if (link >= 0) link = ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
        if (link < 0) {
          close(pfd);
          res.failed.push({ point: p, errno: -link });
          progress(false);
          continue;
        }
        res.links.push(pfd);
      }
      res.attached.push(p);
      progress(true);
    }
    return res;
  }
}
