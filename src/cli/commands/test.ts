// ipft --test: build every program a trace would load and hand it to the kernel verifier; attach nothing.
// Exit 0 only if all of them load; on a rejection, the verifier's log says why. What it does not check
// (attaching) is said too: -b kprobe loads on a kernel without kprobes, where a trace cannot attach it.
import type { Built } from "../../session/build.js";
import { stdIo } from "../../session/io.js";
import { KernelObjects } from "../../session/kernel-objects.js";
import { loadKernelView } from "../../session/kernel-view.js";
import { loadAll } from "../../session/load.js";
import { prepareSession } from "../../session/prepare.js";
import { withScript } from "../../session/script-host.js";
import { sessionConfig } from "../config.js";
import type { Options } from "../options.js";

export function runTest(opts: Options): number {
  const config = sessionConfig(opts);
  const io = stdIo(config.verbose);
  const kernel = loadKernelView({ needKallsyms: false, needTracefs: true, needBpf: true });
  return withScript(config.module, kernel, (script) => {
    const kobj = new KernelObjects();
    try {
      const { built, inputs, ...made } = prepareSession(config, kernel, script, io, kobj, "verify");
      const l = loadAll(built, inputs, kobj, io);
      const clones = made.clones?.load(inputs, io) ?? 0;
      const cloneNote = clones ? `; ${clones} following clones` : "";
      const per = built.backends.map(({ backend, units }) => `${backend.name}: ${units.length}`);
      const moduleNote = built.module.length ? `, module of ${built.module.length} instructions` : "";
      const refusedNote = l.refused
        ? `; ${l.refused} functions the kernel cannot attach this backend to, untraceable`
        : "";
      io.out.write(
        `ok: ${l.loaded.length} programs passed the verifier (${per.join(", ")}; ${l.insns} instructions${moduleNote}${refusedNote}${cloneNote})\n`,
      );
      io.out.write(`${notChecked(built)}\n`);
      return 0;
    } finally {
      kobj.closeAll();
    }
  });
}

/** The second line: what --test leaves to a trace, and the chosen backends this kernel cannot attach. */
export function notChecked(built: Pick<Built, "backends" | "features">): string {
  const cannot = built.backends
    .map(({ backend }) => built.features.backends.get(backend.name))
    .filter((f) => f !== undefined && !f.ok)
    .map(
      (f) =>
        `${f!.name} cannot attach on this kernel (${f!.reason}), so a trace with -b ${f!.name} fails here`,
    );
  return `not checked: attaching (--test attaches nothing)${cannot.length ? `; ${cannot.join("; ")}` : ""}`;
}
