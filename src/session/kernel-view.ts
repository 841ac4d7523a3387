// What ipft knows about the running kernel before it loads anything: BTF, the attach points that carry an
// skb (vmlinux and modules), skb->mark's offset, helper ids and names, symbols and the traceable list.
import { type Btf, loadKernelBtf } from "../btf/index.js";
import { requireBpf } from "../features/probe.js";
import { type AttachPoint, discoverAttachPointsCached } from "../plan/attach-points.js";
import { deviceArgs } from "../plan/device-args.js";
import type { PointLimits } from "../plan/plan.js";
import { verdictPoints } from "../plan/verdict-points.js";
import type { VerdictSource } from "../program/main-program.js";
import {
  availableFilterFunctions,
  LazyKallsyms,
  readKprobeBlacklist,
  type SymbolTable,
} from "../symbols/index.js";

export interface KernelView {
  btf: Btf;
  points: AttachPoint[];
  /** The tracepoints where packets end, with where their arguments are. */
  verdicts: Map<AttachPoint, VerdictSource>;
  /** The tracepoints that pass the device as an argument (plan/device-args.ts), with its index. */
  deviceArgs: Map<AttachPoint, number>;
  markOffset: number;
  /** Helper name (without bpf_) -> id, from the kernel's enum bpf_func_id. */
  helpers: Map<string, number>;
  helperName: (id: number) => string | undefined;
  /** Read on first use (see LazyKallsyms). */
  kallsyms?: SymbolTable;
  /** tracefs available_filter_functions, or null when it cannot be read (then traceableReason says why). */
  traceable: Set<string> | null;
  traceableReason?: string;
}

/** What decides, besides the backends this kernel supports, which attach points a backend can trace
 * (plan/plan.ts's rules). `repeatedNames`: where the view has no kallsyms of its own. */
export function pointLimits(kernel: KernelView, repeatedNames?: () => Set<string>): PointLimits {
  const repeated = kernel.kallsyms ? () => kernel.kallsyms!.repeatedNames() : repeatedNames;
  return {
    traceable: kernel.traceable,
    kprobeBlacklist: () => readKprobeBlacklist(),
    ...(repeated ? { repeatedNames: repeated } : {}),
  };
}

export function loadKernelView(o: {
  needKallsyms: boolean;
  needTracefs: boolean;
  needBpf?: boolean;
}): KernelView {
  if (o.needBpf) requireBpf();
  const kb = loadKernelBtf();
  const btf = kb.vmlinux;
  // Remembered across runs under the BTF's content hash (src/btf/derived-cache.ts).
  const points = discoverAttachPointsCached(btf, "vmlinux");
  const devArgs = deviceArgs(btf, points);
  for (const mod of kb.modules()) {
    const own = discoverAttachPointsCached(kb.module(mod), mod);
    deviceArgs(kb.module(mod), own, devArgs);
    points.push(...own);
  }
  const helpers = new Map<string, number>();
  const names = new Map<number, string>();
  for (const [k, v] of btf.enumValues("bpf_func_id")) {
    const name = k.replace(/^BPF_FUNC_/, "");
    helpers.set(name, Number(v));
    names.set(Number(v), `bpf_${name}`);
  }
  const view: KernelView = {
    btf,
    points,
    verdicts: verdictPoints(btf, points),
    deviceArgs: devArgs,
    markOffset: btf.offsetof("sk_buff", "mark"),
    helpers,
    helperName: (id) => names.get(id),
    traceable: null,
  };
  // IPFT_KALLSYMS: another symbol file (for tests, or a kernel whose symbols were saved elsewhere).
  if (o.needKallsyms) view.kallsyms = new LazyKallsyms(process.env.IPFT_KALLSYMS || undefined);
  if (o.needTracefs) {
    const a = availableFilterFunctions();
    view.traceable = a.names;
    if (a.names === null) view.traceableReason = `${a.reason}: every BTF function counts as traceable`;
  }
  return view;
}
