// Everything up to loading, shared by a trace, --test and --gen program: the plan, each backend with the
// attach units its programs serve, the module checked against the ABI, and the inputs of every program.
import { decode, type Insn } from "../asm/index.js";
import type { AttachUnit, Backend } from "../backends/backend.js";
import { FtraceBackend } from "../backends/ftrace.js";
import { KprobeBackend } from "../backends/kprobe.js";
import { KprobeMultiBackend } from "../backends/kprobe-multi.js";
import { TracepointBackend } from "../backends/tracepoint.js";
import { moduleBtfFds } from "../btf/module-fd.js";
import { helperAllowed } from "../features/helpers.js";
import { type KernelFeatures, probeFeatures } from "../features/probe.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { makePlan, type Plan } from "../plan/plan.js";
import type { ExtrasRequest } from "../program/extras.js";
import { assertModule } from "../program/module-abi.js";
import type { TrackSpec } from "../program/track-map.js";
import { readKprobeBlacklist } from "../symbols/index.js";
import { AttachIds } from "./attach-ids.js";
import type { PlanChoice, Selection, SessionConfig } from "./config.js";
import { deviceLayout } from "./device-layout.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";
import type { ProgramInputs } from "./load.js";
import type { ScriptHost } from "./script-host.js";
import { selectInput } from "./select-input.js";
import { packetLayout } from "./skb-layout.js";

export interface Built {
  plan: Plan;
  /** What the kernel was found to support (--test tells which chosen backend cannot attach here). */
  features: KernelFeatures;
  backends: { backend: Backend; units: AttachUnit[] }[];
  ids: AttachIds;
  module: Insn[];
  probeRead: number;
}

/** `loadOnly`: --test and --gen, where a backend whose programs load is enough. Kernel objects this needs
 * (module BTF fds) are added to `kobj`. */
export function build(
  choice: PlanChoice,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  kobj: KernelObjects,
  loadOnly = false,
): Built {
  const features = probeFeatures(kernel.points, choice.backend ? [choice.backend, "tracepoint"] : undefined);
  const plan = makePlan({
    loadOnly,
    points: kernel.points,
    features,
    ...(choice.backend ? { backend: choice.backend } : {}),
    tracer: choice.tracer,
    ...(choice.regex ? { regex: choice.regex } : {}),
    ...(choice.moduleRegex ? { moduleRegex: choice.moduleRegex } : {}),
    traceable: kernel.traceable,
    kprobeBlacklist: () => readKprobeBlacklist(),
    ...(choice.verdicts !== false ? { verdicts: kernel.verdicts } : {}),
    ...(kernel.kallsyms ? { repeatedNames: () => kernel.kallsyms!.repeatedNames() } : {}),
  });
  for (const n of plan.notes) io.verbose(n);
  if (plan.leftOut) io.err(plan.leftOut);
  if (kernel.traceableReason) io.verbose(kernel.traceableReason);
  const ids = new AttachIds();
  const backends: Built["backends"] = [];
  const withReturns = choice.tracer === "function_graph";
  if (plan.functionBackend) {
    const b = functionBackend(plan, features, io, kobj);
    backends.push({ backend: b, units: b.units(plan.functions, withReturns) });
  }
  if (plan.tracepoints.length > 0) {
    const b = new TracepointBackend((p) => ids.idOf(p), plan.verdicts, kernel.deviceArgs);
    backends.push({ backend: b, units: b.units(plan.tracepoints) });
  }
  return {
    plan,
    features,
    backends,
    ids,
    module: checkedModule(script, backends, kernel),
    probeRead: features.probeRead,
  };
}

function functionBackend(plan: Plan, features: KernelFeatures, io: SessionIo, kobj: KernelObjects): Backend {
  switch (plan.functionBackend!) {
    case "kprobe":
      return new KprobeBackend(features.kprobePmu, features.kprobeFuncIp);
    case "kprobe-multi":
      return new KprobeMultiBackend();
    case "ftrace": {
      const fds = moduleBtfFds(new Set(plan.functions.map((p) => p.module).filter((m) => m !== "vmlinux")));
      for (const fd of fds.values()) kobj.add(fd);
      dropUnreachable(plan, (p) => p.module === "vmlinux" || fds.has(p.module), io);
      return new FtraceBackend((m) => fds.get(m));
    }
  }
}

/** Module functions whose module's BTF object the kernel does not list cannot be named to fentry. */
function dropUnreachable(plan: Plan, reachable: (p: AttachPoint) => boolean, io: SessionIo): void {
  const keep = plan.functions.filter(reachable);
  const gone = plan.functions.length - keep.length;
  if (gone === 0) return;
  plan.functions = keep;
  plan.untraceable += gone;
  io.verbose(
    `${gone} functions of kernel modules without a BTF object in the kernel: untraceable with ftrace`,
  );
}

function checkedModule(
  script: ScriptHost | undefined,
  backends: Built["backends"],
  kernel: KernelView,
): Insn[] {
  if (!script) return [];
  const bytes = script.emit();
  const progTypes = new Set(
    backends.flatMap((b) => b.units.map((u) => `${u.progType}/${u.expectedAttachType ?? ""}`)),
  );
  assertModule(bytes, {
    allowedHelpers: (id) =>
      [...progTypes].every((k) => {
        const [t, e] = k.split("/");
        return helperAllowed(Number(t), e ? Number(e) : undefined, id);
      }),
    helperName: kernel.helperName,
  });
  return decode(bytes);
}

export function programInputs(
  sel: Selection & Partial<Pick<SessionConfig, "snaplen" | "stack" | "pcapng">>,
  kernel: KernelView,
  built: Built,
  ringFd: number,
  lostFd: number,
  track?: TrackSpec,
): ProgramInputs {
  return {
    markOffset: kernel.markOffset,
    mark: sel.mark,
    mask: sel.mask,
    ringFd,
    lostFd,
    probeRead: built.probeRead,
    module: built.module,
    ...extrasInputs(sel, kernel),
    ...selectInput(sel, kernel, track),
  };
}

/** -w / --snaplen / --stack: what the programs append to the record (nothing, and no cost, by default). */
function extrasInputs(
  o: Partial<Pick<SessionConfig, "snaplen" | "stack" | "pcapng">>,
  kernel: KernelView,
): { extras?: ExtrasRequest } {
  const snaplen = o.snaplen ?? 0;
  const stack = o.stack ?? "off";
  const withDevice = o.pcapng !== undefined;
  if (snaplen === 0 && stack === "off" && !withDevice) return {};
  const extras: ExtrasRequest = {
    snaplen,
    stack,
    skb: packetLayout(kernel.btf, "--snaplen, --stack and -w"),
  };
  if (withDevice) extras.device = deviceLayout(kernel.btf);
  return { extras };
}
