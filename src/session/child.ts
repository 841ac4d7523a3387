// `ipft ... -- COMMAND`: the command runs once tracing is ready, and its exit ends the trace. stdout is
// ipft's (the trace, which may be JSON piped to jq), so the command's stdout goes to stderr with its
// stderr; stdin is shared.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { SessionIo } from "./io.js";
import type { StopSignal } from "./stop-signal.js";

/** Starts `command`; `status()` is its exit status (128+N for a signal, 127 if it could not start);
 * `failed()`: it could not start. */
export function runCommand(
  command: string[],
  io: SessionIo,
  stop: StopSignal,
): { status(): number; failed(): boolean } {
  let status = 0;
  let failed = false;
  const child = spawn(command[0]!, command.slice(1), { stdio: ["inherit", 2, "inherit"] });
  child.on("error", (e: NodeJS.ErrnoException) => {
    io.err(`cannot run ${command[0]}: ${e.code === "ENOENT" ? "command not found" : e.message}`);
    status = 127;
    failed = true;
    stop.trigger("command failed");
  });
  child.on("exit", (code, sig) => {
    status = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
    // Events of the command's last packets may still be in flight: give them a moment.
    setTimeout(() => stop.trigger("command exited"), 100);
  });
  return { status: () => status, failed: () => failed };
}
