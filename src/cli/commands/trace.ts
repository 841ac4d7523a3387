// ipft -m MARK [...] [-- COMMAND]: the tracing run, with the script's init before and fini after, always.
import { loadKernelView } from "../../session/kernel-view.js";
import { withScriptAsync } from "../../session/script-host.js";
import { runSession, stderrIo } from "../../session/session.js";
import { StopSignal } from "../../session/stop-signal.js";
import type { Options } from "../options.js";

export async function runTrace(opts: Options): Promise<number> {
  // Installed first: a signal during BTF loading or attaching ends the run cleanly, not mid-way.
  const stop = new StopSignal().install();
  try {
    const kernel = loadKernelView({ needKallsyms: true, needTracefs: true, needBpf: true });
    return await withScriptAsync(opts, kernel, (script) =>
      runSession(opts, kernel, script, stderrIo(opts.verbose), stop),
    );
  } finally {
    stop.uninstall();
  }
}
