// Every error a user can meet becomes one line and an exit status (plus, for verifier rejections and Lua
// errors, the log or traceback that explains it); anything else is an internal error, with its stack on -v.
import { UserError } from "../core/errors.js";

export interface Described {
  line: string;
  status: number;
  detail?: string;
}

export function describeError(e: unknown, verbose = false): Described {
  if (e instanceof UserError) {
    const detail = (verbose && e.verboseDetail) || e.detail;
    return { line: firstLine(e.message), status: e.status, ...(detail ? { detail } : {}) };
  }
  if (e instanceof Error)
    return { line: `internal error: ${firstLine(e.message)} (run with -v for details)`, status: 1 };
  return { line: `internal error: ${String(e)}`, status: 1 };
}

function firstLine(s: string): string {
  return s.split("\n")[0]!;
}
