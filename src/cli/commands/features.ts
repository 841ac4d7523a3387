// ipft --features: one line per backend, NAME yes|no reason.

import { BACKENDS } from "../../core/names.js";
import { probeFeatures } from "../../features/probe.js";
import { stdIo } from "../../session/io.js";
import { loadKernelView } from "../../session/kernel-view.js";
import type { Options } from "../options.js";

export function runFeatures(opts: Options): number {
  const io = stdIo(opts.verbose);
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: false, needBpf: true });
  const f = probeFeatures(kernel.points);
  for (const name of BACKENDS) {
    const b = f.backends.get(name)!;
    io.out.write(`${name.padEnd(13)} ${b.ok ? "yes" : "no "} ${b.reason}\n`);
  }
  return 0;
}
