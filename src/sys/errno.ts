// errno values become errors that say which call failed, the errno name, and a hint where one helps.
import { UserError } from "../core/errors.js";

const NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  7: "E2BIG",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
  99: "EADDRNOTAVAIL",
  524: "ENOTSUPP",
};

export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

const HINTS: Record<number, string> = {
  1: "run as root (or with CAP_BPF and CAP_PERFMON)",
  13: "run as root (or with CAP_BPF and CAP_PERFMON)",
  2: "this kernel lacks the object or feature",
  12: "out of locked memory or kernel memory; try a smaller --ring-size",
  24: "too many open files; raise the limit with ulimit -n",
  38: "this kernel was built without it",
  95: "this kernel does not support it",
  524: "this kernel does not support it",
};

/** A failed system call: `bpf(BPF_PROG_LOAD): EPERM (run as root ...)`. */
export class SysError extends UserError {
  readonly errno: number;
  readonly call: string;
  constructor(call: string, errno: number, hint?: string) {
    const h = hint ?? HINTS[errno];
    super(`${call}: ${errnoName(errno)}${h ? ` (${h})` : ""}`);
    this.errno = errno;
    this.call = call;
  }
}

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const E2BIG = 7;
export const EAGAIN = 11;
export const EACCES = 13;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;
