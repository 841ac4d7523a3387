// ipft -m MARK [...] [-- COMMAND]: the tracing run, with the script's init before and fini after, always.
import { stdIo } from "../../session/io.js";
import { loadKernelView } from "../../session/kernel-view.js";
import { runSession } from "../../session/run.js";
import { withScriptAsync } from "../../session/script-host.js";
import { StopSignal } from "../../session/stop-signal.js";
import { PhaseTimer } from "../../util/phase-timer.js";
import { sessionConfig } from "../config.js";
import type { Options } from "../options.js";
import { missingDeviceWarning } from "../selectors.js";

export async function runTrace(opts: Options): Promise<number> {
  // Installed first: a signal during BTF loading or attaching ends the run cleanly, not mid-way.
  const stop = new StopSignal().install();
  const timer = new PhaseTimer();
  timer.mark("start");
  try {
    const config = sessionConfig(opts);
    const missing = opts.ifname ? missingDeviceWarning(opts.ifname, opts.netns) : undefined;
    if (missing) process.stderr.write(`ipft: ${missing}\n`);
    const kernel = loadKernelView({ needKallsyms: true, needTracefs: true, needBpf: true });
    timer.mark("kernel view");
    return await withScriptAsync(config.module, kernel, (script) =>
      runSession(config, kernel, script, stdIo(config.verbose), stop, timer),
    );
  } finally {
    stop.uninstall();
  }
}
