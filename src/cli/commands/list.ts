// ipft -l: every attach point that carries an skb, NAME MODULE KIND SKB_POS, sorted by name.
import { stdIo } from "../../session/io.js";
import { loadKernelView } from "../../session/kernel-view.js";
import type { Options } from "../options.js";

export function runList(opts: Options): number {
  const io = stdIo(opts.verbose);
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: false });
  const rows = kernel.points
    .filter(
      (p) =>
        (!opts.regex || opts.regex.test(p.name)) && (!opts.moduleRegex || opts.moduleRegex.test(p.module)),
    )
    .sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0,
    );
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  const mw = Math.max(6, ...rows.map((r) => r.module.length));
  io.errSink.write(`${"NAME".padEnd(w)} ${"MODULE".padEnd(mw)} ${"KIND".padEnd(10)} SKB_POS\n`);
  const out: string[] = [];
  for (const r of rows)
    out.push(`${r.name.padEnd(w)} ${r.module.padEnd(mw)} ${r.kind.padEnd(10)} ${r.skbPos}`);
  io.out.write(out.length > 0 ? `${out.join("\n")}\n` : "");
  if (opts.verbose) {
    const f = rows.filter((r) => r.kind === "function").length;
    io.errSink.write(`${rows.length} attach points: ${f} functions, ${rows.length - f} tracepoints\n`);
  }
  return 0;
}
