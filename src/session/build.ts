// Everything up to loading, shared by a trace, --test and --gen program: the plan, each backend with the
// attach units its programs serve, the module checked against the ABI, and the inputs of every program.
import { decode, type Insn } from "../asm/index.js";
import type { AttachUnit, Backend } from "../backends/backend.js";
import { functionBackend } from "../backends/function-backends.js";
import { TracepointBackend } from "../backends/tracepoint.js";
import { moduleBtfFds } from "../btf/module-fd.js";
import { helperAllowed } from "../features/helpers.js";
import { type KernelFeatures, probeFeatures } from "../features/probe.js";
import { lateFreeRange } from "../plan/late-free.js";
import { makePlan, type Plan } from "../plan/plan.js";
import type { PartsRequest } from "../program/extras.js";
import { assertModule } from "../program/module-abi.js";
import { SCRATCH_TRACK_ENTRY, SCRATCH_TRACK_FIRST, SCRATCH_TRACK_LOOK } from "../program/stack-layout.js";
import { TRACK_VALUE_DEV, TRACK_VALUE_LOOK, type TrackSpec } from "../program/track-map.js";
import type { DropFactsLayout, SockLayout } from "../record/parts/drop-facts.js";
import type { CodeRange } from "../symbols/index.js";
import { AttachIds } from "./attach-ids.js";
import type { PlanChoice, Selection, SessionConfig } from "./config.js";
import { deviceLayout } from "./device-layout.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import { type KernelView, pointLimits } from "./kernel-view.js";
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
    ...pointLimits(kernel),
    ...(choice.verdicts !== false ? { verdicts: kernel.verdicts } : {}),
  });
  for (const n of plan.notes) io.verbose(n);
  if (plan.leftOut) io.err(plan.leftOut);
  if (kernel.traceableReason) io.verbose(kernel.traceableReason);
  const ids = new AttachIds();
  const backends: Built["backends"] = [];
  const withReturns = choice.tracer === "function_graph";
  if (plan.functionBackend) {
    const b = functionBackend(plan.functionBackend, { features, moduleBtfFd: moduleFds(plan, kobj) });
    dropUnreachable(plan, b, io);
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

/** The module BTF fds of the plan's functions, opened (and owned by `kobj`) when first asked for. */
function moduleFds(plan: Plan, kobj: KernelObjects): (module: string) => number | undefined {
  let fds: Map<string, number> | undefined;
  return (module) => {
    if (!fds) {
      fds = moduleBtfFds(new Set(plan.functions.map((p) => p.module).filter((m) => m !== "vmlinux")));
      for (const fd of fds.values()) kobj.add(fd);
    }
    return fds.get(module);
  };
}

/** Functions the backend cannot name to the kernel are untraceable. */
function dropUnreachable(plan: Plan, b: Backend, io: SessionIo): void {
  const gone = new Set(b.unreachable?.(plan.functions) ?? []);
  if (gone.size === 0) return;
  plan.functions = plan.functions.filter((p) => !gone.has(p));
  plan.untraceable += gone.size;
  io.verbose(
    `${gone.size} functions of kernel modules without a BTF object in the kernel: untraceable with ${b.name}`,
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
  sel: Selection &
    Partial<Pick<SessionConfig, "snaplen" | "stack" | "pcapng" | "identity" | "identityEvery">>,
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
    ...extrasInputs(sel, kernel, track !== undefined),
    ...lateFreeInput(kernel),
    ...selectInput(sel, kernel, track && identityTrack(sel, kernel, track)),
  };
}

/** Where the late free's code is (plan/late-free.ts), from kallsyms (read now, before tracing, rather than
 * at the first name asked for). */
function lateFreeInput(kernel: KernelView): { lateFree?: CodeRange } {
  const r = kernel.kallsyms ? lateFreeRange(kernel.kallsyms) : undefined;
  return r ? { lateFree: r } : {};
}

/** Tracking with the identity on keeps each packet's device and look in its entry (program/track-map.ts). */
const identityTrack = (
  o: { identity?: boolean | undefined; identityEvery?: boolean | undefined },
  kernel: KernelView,
  t: TrackSpec,
): TrackSpec =>
  o.identity === false || o.identityEvery
    ? t
    : { ...t, identity: { dev: deviceLayout(kernel.btf).dev, mark: kernel.markOffset } };

/** -w / --snaplen / --stack and the identity: what the programs append to the record (nothing, and no
 * cost, with --no-identity and none of the others); drop events always get the drop-facts part (its room
 * is 0 at every other event) where BTF has its offsets: without them, drops are explained without facts. */
function extrasInputs(
  o: Partial<Pick<SessionConfig, "snaplen" | "stack" | "pcapng" | "identity" | "identityEvery">>,
  kernel: KernelView,
  tracked: boolean,
): { extras?: PartsRequest } {
  const snaplen = o.snaplen ?? 0;
  const stack = o.stack ?? "off";
  const withDevice = o.pcapng !== undefined;
  const identity = o.identity !== false;
  const dropFacts = dropFactsLayout(kernel);
  if (snaplen === 0 && stack === "off" && !withDevice && !identity && !dropFacts) return {};
  const extras: PartsRequest = {
    snaplen,
    stack,
    skb: packetLayout(kernel.btf, "--snaplen, --stack, -w and the packet identity"),
  };
  if (withDevice) extras.device = deviceLayout(kernel.btf);
  if (identity)
    extras.identity = {
      device: deviceLayout(kernel.btf),
      mark: kernel.markOffset,
      // --identity-every: at every event, as without tracking (the entry's device and look are not kept).
      ...(tracked && !o.identityEvery
        ? {
            track: {
              firstSlot: SCRATCH_TRACK_FIRST,
              entrySlot: SCRATCH_TRACK_ENTRY,
              entryDev: TRACK_VALUE_DEV,
              lookSlot: SCRATCH_TRACK_LOOK,
              entryLook: TRACK_VALUE_LOOK,
            },
          }
        : {}),
    };
  if (dropFacts) extras.dropFacts = dropFacts;
  return { extras };
}

function dropFactsLayout(kernel: KernelView): DropFactsLayout | undefined {
  try {
    return {
      device: deviceLayout(kernel.btf),
      devMtu: kernel.btf.offsetof("net_device", "mtu"),
      skb: packetLayout(kernel.btf, "drop facts"),
      ...sockLayout(kernel),
    };
  } catch {
    return undefined;
  }
}

/** The socket's offsets where BTF has them all (without, drops are explained without their socket). */
function sockLayout(kernel: KernelView): { sock?: SockLayout } {
  const at = (t: string, m: string) => kernel.btf.offsetof(t, m);
  try {
    const backlog = at("sock", "sk_backlog.rmem_alloc");
    // One 8-byte read takes both.
    if (at("sock", "sk_backlog.len") !== backlog + 4) return {};
    let v6 = -1;
    try {
      v6 = at("sock", "__sk_common.skc_v6_rcv_saddr");
    } catch {}
    return {
      sock: {
        family: at("sock", "__sk_common.skc_family"),
        num: at("sock", "__sk_common.skc_num"),
        rcvSaddr: at("sock", "__sk_common.skc_rcv_saddr"),
        v6RcvSaddr: v6,
        rcvbuf: at("sock", "sk_rcvbuf"),
        backlog,
        socket: at("sock", "sk_socket"),
        socketIno: at("socket_alloc", "vfs_inode") - at("socket_alloc", "socket") + at("inode", "i_ino"),
      },
    };
  } catch {
    return {};
  }
}
