// Every message of a session goes through here: the trace itself to `out` (stdout), everything about the
// run to stderr, `ipft: ` lines for notes and problems, bare lines for ipftrace2's status lines.
import type { Sink } from "../output/index.js";

export interface SessionIo {
  /** The trace (stdout). */
  readonly out: Sink;
  /** Where progress lines and notices about the run go (stderr). */
  readonly errSink: Sink;
  /** errSink is a terminal: progress lines are redrawn in place. */
  readonly interactive: boolean;
  /** A problem or a notice the user must see: `ipft: LINE`. */
  err(line: string): void;
  /** Only with -v: `ipft: LINE`. */
  verbose(line: string): void;
  /** A status line printed as it is (`Trace ready!`, `Trace done!`). */
  status(line: string): void;
}

export function stdIo(verbose: boolean): SessionIo {
  const err = process.stderr;
  return {
    out: process.stdout,
    errSink: err,
    interactive: err.isTTY === true,
    err: (l) => err.write(`ipft: ${l}\n`),
    verbose: (l) => {
      if (verbose) err.write(`ipft: ${l}\n`);
    },
    status: (l) => err.write(`${l}\n`),
  };
}
