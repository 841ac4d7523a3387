// ipft -l: every attach point that carries an skb, NAME MODULE KIND SKB_POS BACKENDS, sorted by name.
// BACKENDS: those that can trace the point on this kernel (the feature probes and the rules a trace
// applies, src/plan), `-` when none. -b keeps the points that backend's rules accept.
import { UserError } from "../../core/errors.js";
import type { BackendName } from "../../core/names.js";
import { type KernelFeatures, probeFeatures, requireBpf } from "../../features/probe.js";
import { isTracepointStub } from "../../plan/attach-points.js";
import { backendsFor, pointRules } from "../../plan/plan.js";
import { stdIo } from "../../session/io.js";
import { loadKernelView, pointLimits } from "../../session/kernel-view.js";
import { Kallsyms } from "../../symbols/index.js";
import type { Options } from "../options.js";

export function runList(opts: Options): number {
  const io = stdIo(opts.verbose);
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: true });
  // The probes load eBPF programs: without the right to, the points are listed and BACKENDS is `?`.
  let features: KernelFeatures | undefined;
  try {
    requireBpf();
    features = probeFeatures(kernel.points);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    io.errSink.write(`ipft: BACKENDS unknown: ${e.message}\n`);
  }
  const supported = (b: BackendName) => features?.backends.get(b)?.ok === true;
  if (features && opts.backend && !supported(opts.backend))
    io.errSink.write(
      `ipft: backend ${opts.backend} is not supported here: ${features.backends.get(opts.backend)?.reason}\n`,
    );
  const rules = pointRules(
    pointLimits(kernel, () => Kallsyms.load(process.env.IPFT_KALLSYMS || undefined).repeatedNames()),
  );
  const stubs = kernel.points.filter(isTracepointStub).length;
  const rows = kernel.points
    .filter(
      (p) =>
        !isTracepointStub(p) &&
        (!opts.regex || opts.regex.test(p.name)) &&
        (!opts.moduleRegex || opts.moduleRegex.test(p.module)) &&
        (!opts.backend || rules(p, opts.backend) === undefined),
    )
    .sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0,
    )
    .map((p) => ({ ...p, backends: features ? backendsFor(p, supported, rules).join(",") || "-" : "?" }));
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  const mw = Math.max(6, ...rows.map((r) => r.module.length));
  io.errSink.write(`${"NAME".padEnd(w)} ${"MODULE".padEnd(mw)} ${"KIND".padEnd(10)} SKB_POS BACKENDS\n`);
  const out: string[] = [];
  for (const r of rows)
    out.push(
      `${r.name.padEnd(w)} ${r.module.padEnd(mw)} ${r.kind.padEnd(10)} ${String(r.skbPos).padEnd(7)} ${r.backends}`,
    );
  io.out.write(out.length > 0 ? `${out.join("\n")}\n` : "");
  if (opts.verbose) {
    const f = rows.filter((r) => r.kind === "function").length;
    const none = rows.filter((r) => r.backends === "-").length;
    io.errSink.write(
      `${rows.length} attach points: ${f} functions, ${rows.length - f} tracepoints; ${none} cannot be traced here; ${stubs} tracepoint stubs (__bpf_trace_*, ...) not shown\n`,
    );
    if (kernel.traceableReason) io.errSink.write(`${kernel.traceableReason}\n`);
  }
  return 0;
}
