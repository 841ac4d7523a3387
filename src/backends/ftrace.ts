// fentry/fexit (BPF trampolines): the target is fixed when the program is loaded, so one program per
// function (and one more per function for returns with function_graph). Attached with BPF_LINK_CREATE.
import type { AttachPoint } from "../plan/attach-points.js";
import { linkCreateTracing, rawTracepointOpen } from "../sys/bpf.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import type { AttachResult, AttachUnit, Backend } from "./backend.js";

export class FtraceBackend implements Backend {
  readonly name = "ftrace" as const;
  readonly maxSkbPos = 12;
  readonly returns = true;

  /** btfObjFd: the fd of a module's BTF object, for functions in modules (undefined: vmlinux only). */
  constructor(private readonly btfObjFd: (module: string) => number | undefined = () => undefined) {}

  units(points: AttachPoint[], withReturns: boolean): AttachUnit[] {
    const units: AttachUnit[] = [];
    for (const p of points) {
      const objFd = p.module === "vmlinux" ? undefined : this.btfObjFd(p.module);
      for (const isReturn of withReturns ? [false, true] : [false]) {
        units.push({
          name: `${isReturn ? "fexit" : "fentry"}_${p.name}`,
          points: [p],
          isReturn,
          skb: { kind: "args", index: p.skbPos - 1 },
          func: { kind: "get_func_ip" },
          progType: ProgType.TRACING,
          expectedAttachType: isReturn ? AttachType.TRACE_FEXIT : AttachType.TRACE_FENTRY,
          attachBtfId: p.btfId,
          ...(objFd !== undefined ? { attachBtfObjFd: objFd } : {}),
        });
      }
    }
    return units;
  }

  attach(progFd: number, unit: AttachUnit, progress: (ok: boolean) => void): AttachResult {
    const p = unit.points[0]!;
    let fd = linkCreateTracing(progFd, unit.expectedAttachType!);
    if (fd < 0) fd = rawTracepointOpen(progFd, null); // kernels before 5.11
    progress(fd >= 0);
    return fd >= 0
      ? { links: [fd], attached: [p], failed: [] }
      : { links: [], attached: [], failed: [{ point: p, errno: -fd }] };
  }
}
