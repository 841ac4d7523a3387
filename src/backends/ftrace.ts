// fentry/fexit (BPF trampolines): the target is fixed when the program is loaded, so one program per
// function (and one more per function for returns with function_graph). A function of a kernel module is
// named by its id in the module's BTF plus the fd of that module's BTF object.

import { attachTracing } from "../link/tracing.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { isFreePath } from "../plan/free-path.js";
import { startsPackets } from "../plan/late-free.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import { type AttachResult, type AttachUnit, attachEach, type Backend } from "./backend.js";
import { type CloneReturns, noProgress } from "./clones.js";

export class FtraceBackend implements Backend {
  readonly name = "ftrace" as const;

  /** btfObjFd: the fd of a module's BTF object (undefined when the module has none: its functions are
   * left out with a reason, see `unreachable`). */
  constructor(private readonly btfObjFd: (module: string) => number | undefined) {}

  unreachable(points: AttachPoint[]): AttachPoint[] {
    return points.filter((p) => p.module !== "vmlinux" && this.btfObjFd(p.module) === undefined);
  }

  units(points: AttachPoint[], withReturns: boolean): AttachUnit[] {
    const units: AttachUnit[] = [];
    for (const p of points) {
      const objFd = p.module === "vmlinux" ? undefined : this.btfObjFd(p.module);
      if (p.module !== "vmlinux" && objFd === undefined) continue;
      for (const isReturn of withReturns ? [false, true] : [false]) {
        units.push({
          name: `${isReturn ? "fexit" : "fentry"}_${p.name}`,
          points: [p],
          isReturn,
          freeing: isFreePath(p),
          noNewPackets: !startsPackets(p),
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
    return attachEach(unit.points, progress, () => attachTracing(progFd, unit.expectedAttachType!));
  }

  /** One fexit program per clone function: it sees the arguments (the parent) and the return value. */
  readonly clones: CloneReturns = {
    how: "fexit",
    units: (points, _savedFd, idOf) =>
      points.map((p) => ({
        name: `fexit_clone_${p.name}`,
        points: [p],
        isReturn: false,
        // fexit's context: the arguments, then the return value.
        skb: { kind: "args", index: p.nargs },
        func: { kind: "const", value: idOf(p) },
        progType: ProgType.TRACING,
        expectedAttachType: AttachType.TRACE_FEXIT,
        attachBtfId: p.btfId,
        clone: { parent: { kind: "args", index: 0 } },
      })),
    attachReturn: (progFd, unit) =>
      attachEach(unit.points, noProgress, () => attachTracing(progFd, AttachType.TRACE_FEXIT)),
  };
}
