// Chooses what to trace: which attach points survive the user's filters and this kernel's limits, and
// which backend attaches the functions. Says why for -v.

import { UserError } from "../core/errors.js";
import type { BackendName, FunctionBackendName, TracerName } from "../core/names.js";
import type { KernelFeatures } from "../features/probe.js";
import type { AttachPoint } from "./attach-points.js";
import type { VerdictSpec } from "./verdict-points.js";

export type { FunctionBackendName };

/** Best first. */
export const FUNCTION_BACKEND_ORDER: FunctionBackendName[] = ["kprobe-multi", "kprobe", "ftrace"];

/** Highest skb argument position each backend reads. */
export const MAX_SKB_POS: Record<BackendName, number> = {
  kprobe: 6,
  "kprobe-multi": 6,
  ftrace: 12,
  tracepoint: 12,
};

/** BPF trampolines (fentry/fexit) take functions of at most 12 arguments (MAX_BPF_FUNC_ARGS). */
export const MAX_ARGS: Partial<Record<BackendName, number>> = { ftrace: 12 };

export interface PlanInput {
  points: AttachPoint[];
  features: KernelFeatures;
  backend?: BackendName;
  tracer: TracerName;
  regex?: RegExp;
  moduleRegex?: RegExp;
  /** Names from tracefs available_filter_functions, or null when that list cannot be read. */
  traceable: Set<string> | null;
  /** Functions the kernel refuses to kprobe (debugfs kprobes/blacklist; null when unknown), asked only
   * when the kprobe backend is used. */
  kprobeBlacklist?: () => Set<string> | null;
  /** Function names kallsyms has more than once (asked only when the kprobe backend is used). */
  repeatedNames?: () => Set<string>;
  /** --test and --gen: a backend whose programs load is enough; nothing will be attached. */
  loadOnly?: boolean;
  /** Tracepoints where packets end (kfree_skb, consume_skb): traced whatever -r says. */
  verdicts?: ReadonlyMap<AttachPoint, VerdictSpec>;
}

export interface Plan {
  functionBackend?: FunctionBackendName;
  functions: AttachPoint[];
  tracepoints: AttachPoint[];
  /** The verdict tracepoints among `tracepoints`, with where their arguments are. */
  verdicts: Map<AttachPoint, VerdictSpec>;
  /** Attach points removed by -r / --module-regex. */
  filtered: number;
  /** Attach points this kernel or backend cannot trace. */
  untraceable: number;
  notes: string[];
}

export function makePlan(input: PlanInput): Plan {
  const { features } = input;
  const notes: string[] = [];
  // --test and --gen with -b only need that backend's programs to load; without -b they show what a
  // trace would use, so the usual choice applies.
  const ok = (b: BackendName) => {
    const f = features.backends.get(b);
    return input.loadOnly && input.backend === b ? f?.loads === true : f?.ok === true;
  };
  const why = (b: BackendName) => features.backends.get(b)?.reason ?? "not probed";

  let functionBackend: FunctionBackendName | undefined;
  let useTracepoints: boolean;
  if (input.backend) {
    if (!ok(input.backend))
      throw new UserError(`backend ${input.backend} is not supported here: ${why(input.backend)}`);
    if (input.backend === "tracepoint") {
      useTracepoints = true;
    } else {
      functionBackend = input.backend;
      useTracepoints = ok("tracepoint");
    }
    notes.push(`backend ${input.backend}: chosen with -b`);
  } else {
    functionBackend = FUNCTION_BACKEND_ORDER.find(ok);
    for (const b of FUNCTION_BACKEND_ORDER)
      notes.push(`backend ${b}: ${ok(b) ? "usable" : `not usable (${why(b)})`}`);
    useTracepoints = ok("tracepoint");
    notes.push(`backend tracepoint: ${useTracepoints ? "usable" : `not usable (${why("tracepoint")})`}`);
    if (!functionBackend && !useTracepoints) {
      throw new UserError(
        `no backend works on this kernel (${FUNCTION_BACKEND_ORDER.map((b) => `${b}: ${why(b)}`).join("; ")}; tracepoint: ${why("tracepoint")})`,
      );
    }
    notes.push(
      functionBackend
        ? `functions attach with ${functionBackend}${useTracepoints ? ", tracepoints are added" : ""}`
        : "no function backend works here: only tracepoints are traced",
    );
  }

  if (input.tracer === "function_graph") {
    if (functionBackend !== "ftrace") {
      throw new UserError(
        `-t function_graph needs the ftrace backend (fentry/fexit)${ok("ftrace") ? "; add -b ftrace" : `, which is not supported here: ${why("ftrace")}`}`,
      );
    }
  }

  let filtered = 0;
  let untraceable = 0;
  let blacklisted = 0;
  let ambiguous = 0;
  let blacklist: Set<string> | null | undefined;
  let repeated: Set<string> | undefined;
  const functions: AttachPoint[] = [];
  const tracepoints: AttachPoint[] = [];
  if (input.traceable === null && functionBackend) {
    notes.push("available_filter_functions is not readable: every BTF function counts as traceable");
  }
  const verdicts = new Map<AttachPoint, VerdictSpec>();
  let selectedVerdicts = 0;
  for (const p of input.points) {
    const selected = !(
      (input.regex && !input.regex.test(p.name)) ||
      (input.moduleRegex && !input.moduleRegex.test(p.module))
    );
    const verdict = useTracepoints ? input.verdicts?.get(p) : undefined;
    if (verdict) {
      verdicts.set(p, verdict);
      tracepoints.push(p);
      if (selected) selectedVerdicts++;
      continue;
    }
    if (!selected) {
      filtered++;
      continue;
    }
    if (p.kind === "tracepoint") {
      if (useTracepoints) tracepoints.push(p);
      else untraceable++;
      continue;
    }
    if (
      !functionBackend ||
      p.skbPos > MAX_SKB_POS[functionBackend] ||
      p.nargs > (MAX_ARGS[functionBackend] ?? Infinity)
    ) {
      untraceable++;
      continue;
    }
    if (input.traceable && !input.traceable.has(p.name)) {
      untraceable++;
      continue;
    }
    if (functionBackend === "kprobe") {
      if (blacklist === undefined) blacklist = input.kprobeBlacklist?.() ?? null;
      if (blacklist?.has(p.name)) {
        untraceable++;
        blacklisted++;
        continue;
      }
      repeated ??= input.repeatedNames?.() ?? new Set();
      if (repeated.has(p.name)) {
        untraceable++;
        ambiguous++;
        continue;
      }
    }
    functions.push(p);
  }
  if (blacklisted > 0)
    notes.push(`${blacklisted} functions are on the kernel's kprobe blacklist: untraceable`);
  if (ambiguous > 0)
    notes.push(
      `${ambiguous} functions share their name with another kernel function: kprobe cannot attach them by name (untraceable)`,
    );
  if (functions.length + tracepoints.length - verdicts.size + selectedVerdicts === 0) {
    throw new UserError(
      filtered > 0
        ? `no attach point matches the filters (${filtered} filtered out, ${untraceable} untraceable); see ipft -l`
        : `nothing can be traced here (${untraceable} attach points untraceable); see ipft --features`,
    );
  }
  return {
    ...(functionBackend ? { functionBackend } : {}),
    functions,
    tracepoints,
    verdicts,
    filtered,
    untraceable,
    notes,
  };
}
