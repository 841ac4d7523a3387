// Every error a user can meet becomes one line and an exit status (plus, for verifier rejections and Lua
// errors, the log or traceback that explains it); anything else is an internal error, with its stack on -v.
import { UsageError, UserError } from "./usage-error.js";

/** Error classes (by name, so folders need not import each other) whose message is meant for users. */
const USER_ERRORS = new Set([
  "BtfError",
  "CaptureError",
  "ScriptError",
  "AbiViolation",
  "VerifierError",
  "KallsymsError",
  "TracefsError",
  "UserError",
  "SysError",
]);

export interface Described {
  line: string;
  status: number;
  detail?: string;
}

export function describeError(e: unknown): Described {
  if (e instanceof UsageError) return { line: e.message, status: 2 };
  if (e instanceof UserError) return { line: e.message, status: 1 };
  if (e instanceof Error && USER_ERRORS.has(e.name)) {
    const x = e as Error & { log?: string; traceback?: string };
    const detail = x.log || x.traceback;
    return { line: firstLine(e.message), status: 1, ...(detail ? { detail } : {}) };
  }
  if (e instanceof Error)
    return { line: `internal error: ${firstLine(e.message)} (run with -v for details)`, status: 1 };
  return { line: `internal error: ${String(e)}`, status: 1 };
}

function firstLine(s: string): string {
  return s.split("\n")[0]!;
}
