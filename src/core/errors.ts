// Errors a user can act on. Every layer throws a subclass of UserError; the command line prints its
// message as one line (plus `detail`, such as a verifier log or a Lua traceback) and exits with `status`.
// Anything that is not a UserError is a bug in ipft and is reported as an internal error.

export class UserError extends Error {
  /** Exit status: 1 for a problem with the machine or the input files, 2 for a bad command line. */
  readonly status: number = 1;
  /** Lines that explain the one-line message (printed under it). */
  detail?: string;
  /** A longer explanation printed instead of `detail` with -v (a whole verifier log). */
  verboseDetail?: string;
  constructor(message: string, detail?: string) {
    super(message);
    this.name = new.target.name;
    if (detail) this.detail = detail;
  }
}

/** A bad command line: exit status 2. */
export class UsageError extends UserError {
  override readonly status = 2;
}
