// Chooses what to trace: which attach points survive the user's filters and this kernel's limits, and
// which backend attaches the functions. Says why for -v.

import { UserError } from "../core/errors.js";
import type { BackendName, FunctionBackendName, TracerName } from "../core/names.js";
import type { KernelFeatures } from "../features/probe.js";
import type { VerdictSource } from "../program/main-program.js";
import { type AttachPoint, isTracepointStub } from "./attach-points.js";

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

/** What, besides the kernel supporting a backend, decides whether that backend can trace an attach point. */
export interface PointLimits {
  /** Names from tracefs available_filter_functions, or null when that list cannot be read. */
  traceable: Set<string> | null;
  /** Functions the kernel refuses to kprobe (debugfs kprobes/blacklist; null when unknown), asked only
   * when the kprobe backend is used. */
  kprobeBlacklist?: () => Set<string> | null;
  /** Function names kallsyms has more than once (asked only when the kprobe backend is used). */
  repeatedNames?: () => Set<string>;
}

/** Why a backend cannot trace an attach point: a tracepoint's stub (never traced), the wrong kind (functions
 * need a function backend), the skb or argument count past the backend's limit, not in the kernel's
 * traceable list, on the kprobe blacklist, or a name kallsyms has twice (kprobe attaches by name). */
export type Refusal = "stub" | "kind" | "args" | "not-traceable" | "blacklisted" | "ambiguous";

/** The rules a trace applies to each attach point: why backend `b` cannot trace `p`, or undefined when it
 * can. Whether this kernel supports `b` at all is the feature probes' answer, asked separately. The kprobe
 * lists are read once, on first need. */
export type PointRules = (p: AttachPoint, b: BackendName) => Refusal | undefined;

export function pointRules(limits: PointLimits): PointRules {
  let blacklist: Set<string> | null | undefined;
  let repeated: Set<string> | undefined;
  return (p, b) => {
    if (isTracepointStub(p)) return "stub";
    if ((p.kind === "tracepoint") !== (b === "tracepoint")) return "kind";
    if (p.kind === "tracepoint") return undefined;
    if (p.skbPos > MAX_SKB_POS[b] || p.nargs > (MAX_ARGS[b] ?? Infinity)) return "args";
    if (limits.traceable && !limits.traceable.has(p.name)) return "not-traceable";
    if (b === "kprobe") {
      if (blacklist === undefined) blacklist = limits.kprobeBlacklist?.() ?? null;
      if (blacklist?.has(p.name)) return "blacklisted";
      repeated ??= limits.repeatedNames?.() ?? new Set();
      if (repeated.has(p.name)) return "ambiguous";
    }
    return undefined;
  };
}

/** The backends that can trace `p` here, best first: those the kernel supports (`supported`) whose rules
 * accept it. What ipft -l shows; a trace attaches `p` with its chosen backend only if that one is listed. */
export function backendsFor(
  p: AttachPoint,
  supported: (b: BackendName) => boolean,
  rules: PointRules,
): BackendName[] {
  const order: BackendName[] = p.kind === "tracepoint" ? ["tracepoint"] : FUNCTION_BACKEND_ORDER;
  return order.filter((b) => supported(b) && rules(p, b) === undefined);
}

export interface PlanInput extends PointLimits {
  points: AttachPoint[];
  features: KernelFeatures;
  backend?: BackendName;
  tracer: TracerName;
  regex?: RegExp;
  moduleRegex?: RegExp;
  /** --test and --gen: a backend whose programs load is enough; nothing will be attached. */
  loadOnly?: boolean;
  /** Tracepoints where packets end (kfree_skb, consume_skb): traced whatever -r says. */
  verdicts?: ReadonlyMap<AttachPoint, VerdictSource>;
}

export interface Plan {
  functionBackend?: FunctionBackendName;
  functions: AttachPoint[];
  tracepoints: AttachPoint[];
  /** The verdict tracepoints among `tracepoints`, with where their arguments are. */
  verdicts: Map<AttachPoint, VerdictSource>;
  /** Attach points removed by -r / --module-regex. */
  filtered: number;
  /** Attach points this kernel or backend cannot trace. */
  untraceable: number;
  notes: string[];
  /** When -r or --module-regex matched points that cannot be traced here: how many, why, and which
   * (one line the user always sees; the rule is told at leftOutNote). */
  leftOut?: string;
  /** The rules the points were chosen by (the clone functions are too: plan/clone-points.ts). */
  rules: PointRules;
}

export function makePlan(input: PlanInput): Plan {
  const notes: string[] = [];
  const { functionBackend, useTracepoints } = chooseBackends(input, notes);
  if (input.traceable === null && functionBackend) {
    notes.push("available_filter_functions is not readable: every BTF function counts as traceable");
  }
  const rules = pointRules(input);
  const s = sortPoints(input, rules, functionBackend, useTracepoints);
  const { functions, tracepoints, verdicts, refused, filtered } = s;
  notes.push(...refusalNotes(s));
  const untraceable = refused.length;
  // The verdict tracepoints are always there: count them only when the filters chose them.
  const chosen = functions.length + tracepoints.length - verdicts.size + s.selectedVerdicts;
  if (chosen === 0) throw nothingChosen(input, s, functionBackend);
  const leftOut =
    filters(input) && refused.length > 0 ? leftOutNote(refused, chosen, functionBackend, input) : undefined;
  return {
    ...(functionBackend ? { functionBackend } : {}),
    functions,
    tracepoints,
    verdicts,
    filtered,
    untraceable,
    notes,
    ...(leftOut ? { leftOut } : {}),
    rules,
  };
}

/** The function backend (-b's, else the best this kernel supports) and whether tracepoints are traced. */
function chooseBackends(
  input: PlanInput,
  notes: string[],
): { functionBackend: FunctionBackendName | undefined; useTracepoints: boolean } {
  const { features } = input;
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
  return { functionBackend, useTracepoints };
}

interface Sorted {
  functions: AttachPoint[];
  tracepoints: AttachPoint[];
  verdicts: Map<AttachPoint, VerdictSource>;
  /** Verdict tracepoints the filters chose (the others are traced anyway). */
  selectedVerdicts: number;
  refused: Refused[];
  /** Removed by -r / --module-regex. */
  filtered: number;
  /** Tracepoint stubs among the chosen points (never traced), and the first of them. */
  stubs: number;
  stub?: AttachPoint;
}

/** Each attach point: traced (a function or a tracepoint, the verdicts whatever the filters say), filtered
 * out, a stub, or refused by the rules. */
function sortPoints(
  input: PlanInput,
  rules: PointRules,
  functionBackend: FunctionBackendName | undefined,
  useTracepoints: boolean,
): Sorted {
  const s: Sorted = {
    functions: [],
    tracepoints: [],
    verdicts: new Map(),
    selectedVerdicts: 0,
    refused: [],
    filtered: 0,
    stubs: 0,
  };
  for (const p of input.points) {
    const selected = !(
      (input.regex && !input.regex.test(p.name)) ||
      (input.moduleRegex && !input.moduleRegex.test(p.module))
    );
    const verdict = useTracepoints ? input.verdicts?.get(p) : undefined;
    if (verdict) {
      s.verdicts.set(p, verdict);
      s.tracepoints.push(p);
      if (selected) s.selectedVerdicts++;
      continue;
    }
    if (!selected) {
      s.filtered++;
      continue;
    }
    const b = p.kind === "tracepoint" ? (useTracepoints ? "tracepoint" : undefined) : functionBackend;
    const why = b ? rules(p, b) : isTracepointStub(p) ? "stub" : "backend";
    if (why === "stub") {
      s.stubs++;
      s.stub ??= p;
    } else if (why) s.refused.push({ p, why });
    else (p.kind === "tracepoint" ? s.tracepoints : s.functions).push(p);
  }
  return s;
}

/** For -v: the stubs skipped and the functions refused, by why. */
function refusalNotes(s: Sorted): string[] {
  const notes: string[] = [];
  const count = (w: Refusal | "backend") => s.refused.filter((r) => r.why === w).length;
  if (s.stubs > 0)
    notes.push(
      `${s.stubs} tracepoint stubs (__bpf_trace_*, __traceiter_*, ...) skipped: the tracepoints are traced`,
    );
  if (count("blacklisted") > 0)
    notes.push(`${count("blacklisted")} functions are on the kernel's kprobe blacklist: untraceable`);
  if (count("ambiguous") > 0)
    notes.push(
      `${count("ambiguous")} functions share their name with another kernel function: kprobe cannot attach them by name (untraceable)`,
    );
  return notes;
}

/** Nothing to trace: why, as precisely as the filters allow. */
function nothingChosen(
  input: PlanInput,
  s: Sorted,
  functionBackend: FunctionBackendName | undefined,
): UserError {
  if (filters(input) && s.refused.length > 0)
    return new UserError(nothingTraceable(s.refused, functionBackend, input));
  if (filters(input) && s.stub)
    return new UserError(
      `${s.stub.name} is generated to deliver a tracepoint, not on a packet's path, and is never traced: trace the tracepoint (see ipft -l -b tracepoint)`,
    );
  return new UserError(
    s.filtered > 0
      ? `no attach point matches the filters (${s.filtered} filtered out, ${s.refused.length} untraceable); see ipft -l`
      : `nothing can be traced here (${s.refused.length} attach points untraceable); see ipft --features`,
  );
}

// The rule for -r and --module-regex: attach every matching point that can be traced here; name what
// cannot, and why, on one line; stop with the reason only when nothing that matches can be traced.

const filters = (input: PlanInput) => input.regex !== undefined || input.moduleRegex !== undefined;

const filterNames = (input: PlanInput) =>
  [input.regex ? "-r" : "", input.moduleRegex ? "--module-regex" : ""].filter(Boolean).join(" and ");

type Refused = { p: AttachPoint; why: Refusal | "backend" };

/** `-r matches 111 attach points; 110 cannot be traced here and are left out: ip_rcv, udp_mt, udp_err and
 * 107 more, because ip_rcv is a kernel function and ...`: the shortest names (the likeliest meant) of each
 * reason, the reason told for the first. */
function leftOutNote(
  refused: Refused[],
  traced: number,
  functionBackend: FunctionBackendName | undefined,
  input: PlanInput,
): string {
  // One part per distinct reason (the kind and, for "args", which limit change its words).
  const groups = new Map<string, Refused[]>();
  for (const r of refused) {
    const limit = r.why === "args" && r.p.skbPos > MAX_SKB_POS[functionBackend!] ? "skb" : "";
    const key = `${r.why}/${r.p.kind}/${limit}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const told = [...groups.values()].map((rs) => {
    rs.sort((a, b) => a.p.name.length - b.p.name.length || (a.p.name < b.p.name ? -1 : 1));
    const shown = rs.slice(0, 3).map((r) => r.p.name);
    const more = rs.length - shown.length;
    const names = more ? `${shown.join(", ")} and ${more} more` : shown.join(", ");
    return `${names}, because ${refusalReason(rs[0]!.p, rs[0]!.why, functionBackend, input)}`;
  });
  const which = filterNames(input);
  return `${which} ${which.includes(" and ") ? "match" : "matches"} ${traced + refused.length} attach points; ${refused.length} cannot be traced here and ${refused.length === 1 ? "is" : "are"} left out: ${told.join("; ")}`;
}

/** Why the attach points the filters matched cannot be traced, told for the one most likely meant (the
 * shortest name: -r ip_rcv matches ip_rcv_core too). */
function nothingTraceable(
  refused: Refused[],
  functionBackend: FunctionBackendName | undefined,
  input: PlanInput,
): string {
  const { p, why } = refused.reduce((a, r) => (r.p.name.length < a.p.name.length ? r : a));
  const reason = refusalReason(p, why, functionBackend, input);
  const others = refused.length - 1;
  return others > 0
    ? `${reason}; the ${others} other matching attach points cannot be traced here either (see ipft -l)`
    : reason;
}

/** Why `p` cannot be traced here, in one sentence naming it. */
function refusalReason(
  p: AttachPoint,
  why: Refusal | "backend",
  functionBackend: FunctionBackendName | undefined,
  input: PlanInput,
): string {
  const what = p.kind === "tracepoint" ? "a tracepoint" : "a kernel function";
  let reason: string;
  switch (why) {
    case "backend":
      reason =
        p.kind === "tracepoint"
          ? `${p.name} is ${what} and this kernel cannot attach tracepoints (${input.features.backends.get("tracepoint")?.reason ?? "not probed"})`
          : input.backend === "tracepoint"
            ? `${p.name} is ${what} and -b tracepoint attaches only tracepoints`
            : `${p.name} is ${what} and this kernel has no function backend (see ipft --features)`;
      break;
    case "args":
      reason =
        p.skbPos > MAX_SKB_POS[functionBackend!]
          ? `${p.name} takes its skb as argument ${p.skbPos} and ${functionBackend} reads only the first ${MAX_SKB_POS[functionBackend!]}`
          : `${p.name} has ${p.nargs} arguments and ${functionBackend} attaches functions of at most ${MAX_ARGS[functionBackend!]}`;
      break;
    case "not-traceable":
      reason = `${p.name} is not in the kernel's available_filter_functions (inlined or notrace): it cannot be traced`;
      break;
    case "blacklisted":
      reason = `${p.name} is on the kernel's kprobe blacklist: -b kprobe cannot attach it`;
      break;
    case "ambiguous":
      reason = `${p.name} names more than one kernel function: -b kprobe cannot attach it by name`;
      break;
    default:
      reason = `${p.name} is ${what} and cannot be traced with ${functionBackend}`;
  }
  return reason;
}
