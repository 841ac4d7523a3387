// ipft --test: build every program a trace would load and hand it to the kernel verifier; attach nothing.
// Exit 0 only if all of them load; on a rejection, the verifier's log says why.

import { LostCounter } from "../../ringbuf/lost-counter.js";
import { RingReader } from "../../ringbuf/reader.js";
import { KernelObjects } from "../../session/kernel-objects.js";
import { loadKernelView } from "../../session/kernel-view.js";
import { loadUnit } from "../../session/programs.js";
import { withScript } from "../../session/script-host.js";
import { prepare, programInputsFor, quietIo } from "../../session/session.js";
import type { Options } from "../options.js";

export function runTest(opts: Options): number {
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: true, needBpf: true });
  return withScript(opts, kernel, (script) => {
    const prep = prepare(opts, kernel, script, quietIo(opts.verbose), true);
    const kobj = new KernelObjects();
    try {
      const ring = kobj.own(new RingReader(4096));
      const lost = kobj.own(new LostCounter());
      const inputs = programInputsFor(opts, kernel, prep, ring.fd, lost.fd);
      const per: string[] = [];
      let programs = 0;
      let insns = 0;
      let refused = 0;
      for (const { backend, units } of prep.backends) {
        for (const unit of units) {
          const l = loadUnit(unit, inputs);
          if (l.fd < 0) {
            refused++;
            if (opts.verbose)
              process.stderr.write(`ipft: ${unit.points[0]?.name} is untraceable: ${l.why}\n`);
            continue;
          }
          kobj.add(l.fd);
          programs++;
          insns += l.insnCount;
        }
        per.push(`${backend.name}: ${units.length}`);
      }
      process.stdout.write(
        `ok: ${programs} programs passed the verifier (${per.join(", ")}; ${insns} instructions${prep.module.length ? `, module of ${prep.module.length} instructions` : ""}${refused ? `; ${refused} functions the kernel cannot attach this backend to, untraceable` : ""})\n`,
      );
      return 0;
    } finally {
      kobj.closeAll();
    }
  });
}
