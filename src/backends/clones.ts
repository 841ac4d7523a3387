// Where each function backend follows clones and copies (program/clone.ts): the return programs' attach
// units and how they and the kprobe backends' entry program attach.
//   ftrace        one fexit program per clone function (it sees the arguments and the return value)
//   kprobe        one kretprobe program per clone function, and one entry program (a kprobe on each)
//   kprobe-multi  one kretprobe.multi program on all of them, and one entry program (one kprobe.multi link)
// The tracepoint backend sees no return value: it cannot follow clones.
import type { FunctionBackendName } from "../core/names.js";
import { attachKprobe } from "../link/kprobe.js";
import { attachKprobeMulti } from "../link/kprobe-multi.js";
import { attachTracing } from "../link/tracing.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { AttachType, ProgType } from "../sys/bpf-abi.js";
import type { KprobePmu } from "../sys/perf.js";
import { type AttachResult, type AttachUnit, attachEach } from "./backend.js";
import { ARG_REGS, AX } from "./pt-regs.js";

export class CloneProbes {
  /** savedFd: the saved-parent hash (kprobe backends); idOf: a constant naming a function in the
   * record, where one program serves one function. */
  constructor(
    readonly backend: FunctionBackendName,
    private readonly pmu: KprobePmu | undefined,
    readonly savedFd: number,
    private readonly idOf: (p: AttachPoint) => bigint,
  ) {}

  /** The kprobe backends save the parent at entry. */
  get needsEntry(): boolean {
    return this.backend !== "ftrace";
  }

  /** Where the entry program finds the parent: the first argument's register. */
  static readonly PARENT_REG = ARG_REGS[0]!;

  /** The return programs' units. */
  units(points: AttachPoint[]): AttachUnit[] {
    if (points.length === 0) return [];
    const saved = { parent: { kind: "saved" as const, mapFd: this.savedFd } };
    switch (this.backend) {
      case "ftrace":
        return points.map((p) => ({
          name: `fexit_clone_${p.name}`,
          points: [p],
          isReturn: false,
          // fexit's context: the arguments, then the return value.
          skb: { kind: "args", index: p.nargs },
          func: { kind: "const", value: this.idOf(p) },
          progType: ProgType.TRACING,
          expectedAttachType: AttachType.TRACE_FEXIT,
          attachBtfId: p.btfId,
          clone: { parent: { kind: "args", index: 0 } },
        }));
      case "kprobe":
        return points.map((p) => ({
          name: `kretprobe_clone_${p.name}`,
          points: [p],
          isReturn: false,
          skb: { kind: "pt_regs", offset: AX },
          func: { kind: "const", value: this.idOf(p) },
          progType: ProgType.KPROBE,
          clone: saved,
        }));
      case "kprobe-multi":
        return [
          {
            name: "kretmulti_clone",
            points,
            isReturn: false,
            skb: { kind: "pt_regs", offset: AX },
            func: { kind: "get_func_ip" },
            progType: ProgType.KPROBE,
            expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
            clone: saved,
          },
        ];
    }
  }

  /** The entry program's load attributes (kprobe backends). */
  get entryLoad(): { type: number; expectedAttachType?: number } {
    return this.backend === "kprobe-multi"
      ? { type: ProgType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI }
      : { type: ProgType.KPROBE };
  }

  attachReturn(progFd: number, unit: AttachUnit): AttachResult {
    return this.attach(progFd, unit.points, true);
  }

  attachEntry(progFd: number, points: AttachPoint[]): AttachResult {
    return this.attach(progFd, points, false);
  }

  private attach(progFd: number, points: AttachPoint[], atReturn: boolean): AttachResult {
    const unit = { points } as AttachUnit;
    switch (this.backend) {
      case "ftrace":
        return attachEach(unit, noop, () => attachTracing(progFd, AttachType.TRACE_FEXIT));
      case "kprobe":
        return attachEach(unit, noop, (p) => attachKprobe(progFd, this.pmu, p.name, atReturn));
      case "kprobe-multi": {
        const r = attachKprobeMulti(
          progFd,
          points.map((p) => p.name),
          atReturn,
        );
        return {
          links: r.links,
          attached: r.attached.map((i) => points[i]!),
          failed: r.failed.map((f) => ({ point: points[f.index]!, errno: f.errno })),
        };
      }
    }
  }
}

const noop = (): void => {};
