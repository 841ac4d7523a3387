// ipft -m MARK [...] [-- COMMAND]: the tracing run, with the script's init before and fini after, always.
import { runSession } from "../../trace/session.js";
import { loadKernelView } from "../../trace/kernel-view.js";
import { loadScriptHost, type ScriptHost } from "../../trace/script-host.js";
import { StopSignal } from "../../trace/stop-signal.js";
import type { Options } from "../options.js";

export async function runTrace(opts: Options): Promise<number> {
  const stop = new StopSignal().install();
  let script: ScriptHost | undefined;
  const io = {
    out: process.stdout,
    err: (l: string) => process.stderr.write(`ipft: ${l}\n`),
    verbose: (l: string) => {
      if (opts.verbose) process.stderr.write(`ipft: ${l}\n`);
    },
  };
  let failed = false;
  try {
    const kernel = loadKernelView({ needKallsyms: true, needTracefs: true });
    if (opts.script) {
      script = loadScriptHost(opts.script, kernel);
      script.init();
    }
    return await runSession(opts, kernel, script, io, stop);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    stop.uninstall();
    if (script) {
      try {
        script.fini();
      } finally {
        script.close();
      }
    }
    void failed;
  }
}
