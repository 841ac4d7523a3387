// The one place that loads libc through koffi. Everything that talks to the kernel goes through here.
import koffi from "koffi";
import { SysError } from "./errno.js";

const libc = koffi.load("libc.so.6");

const syscallFn = libc.func("long syscall(long nr, ...)");
const closeFn = libc.func("int close(int fd)");
const mmapFn = libc.func(
  "void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)",
);
const munmapFn = libc.func("int munmap(void *addr, size_t length)");
const ioctlFn = libc.func("int ioctl(int fd, unsigned long request, ...)");
const getrlimitFn = libc.func("int getrlimit(int resource, uint64_t *rlim)");
const setrlimitFn = libc.func("int setrlimit(int resource, const uint64_t *rlim)");

// x86_64 syscall numbers.
export const SYS_bpf = 321;
export const SYS_perf_event_open = 298;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
const MAP_FAILED = (1n << 64n) - 1n;

export function errno(): number {
  return koffi.errno();
}

/** Syscall argument structs hold raw addresses of other buffers: referencing them here until the call
 * has returned keeps the garbage collector away from them. */
export let lastKept: unknown;
export function keepAlive(...objs: unknown[]): void {
  lastKept = objs;
}

/** Address of a Buffer's memory, to put into syscall argument structs. The Buffer must stay referenced. */
export function addressOf(buf: Uint8Array): bigint {
  return koffi.address(buf);
}

/** bpf(2): returns the result (fd or 0) or throws SysError naming the command. */
export function bpfSyscall(
  cmd: number,
  attr: Uint8Array,
  what: string,
  hint?: (errno: number) => string | undefined,
): number {
  const r = Number(syscallFn(SYS_bpf, "int", cmd, "void *", attr, "uint", attr.length));
  if (r < 0) {
    const e = koffi.errno();
    throw new SysError(`bpf(${what})`, e, hint?.(e));
  }
  return r;
}

/** bpf(2) without throwing: the result, or -errno. For probes and hot paths. */
export function bpfTry(cmd: number, attr: Uint8Array): number {
  const r = Number(syscallFn(SYS_bpf, "int", cmd, "void *", attr, "uint", attr.length));
  return r < 0 ? -koffi.errno() : r;
}

export function perfEventOpen(
  attr: Uint8Array,
  pid: number,
  cpu: number,
  groupFd: number,
  flags: number,
): number {
  const r = Number(
    syscallFn(SYS_perf_event_open, "void *", attr, "int", pid, "int", cpu, "int", groupFd, "ulong", flags),
  );
  return r < 0 ? -koffi.errno() : r;
}

export function ioctl(fd: number, request: number, arg: number): number {
  const r = ioctlFn(fd, request, "ulong", arg) as number;
  return r < 0 ? -koffi.errno() : r;
}

export function close(fd: number): void {
  if (fd >= 0) closeFn(fd);
}

/** mmap a file descriptor; returns the address. */
export function mmap(
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: number,
  what: string,
): bigint {
  const p = mmapFn(null, length, prot, flags, fd, offset) as bigint;
  if (p === MAP_FAILED || p === 0n || p === null) throw new SysError(`mmap(${what})`, koffi.errno());
  return p;
}

export function munmap(addr: bigint, length: number): void {
  munmapFn(addr, length);
}

/** An ArrayBuffer over memory we mapped (no copy). */
export function view(addr: bigint, length: number): ArrayBuffer {
  return koffi.view(addr, length);
}

export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_NOFILE = 7;

export function getrlimit(resource: number): { cur: bigint; max: bigint } {
  const out = new BigUint64Array(2);
  if (getrlimitFn(resource, out) !== 0) throw new SysError("getrlimit", koffi.errno());
  return { cur: out[0]!, max: out[1]! };
}

/** Returns 0 or -errno: raising a limit is best effort (memcg accounting makes MEMLOCK moot on new kernels). */
export function setrlimit(resource: number, cur: bigint, max: bigint): number {
  const r = setrlimitFn(resource, new BigUint64Array([cur, max])) as number;
  return r < 0 ? -koffi.errno() : 0;
}

// Sockets and namespaces, for the netlink listener (sys/netlink.ts).
const socketFn = libc.func("int socket(int domain, int type, int protocol)");
const bindFn = libc.func("int bind(int fd, const void *addr, uint32_t len)");
const setsockoptFn = libc.func("int setsockopt(int fd, int level, int name, const void *val, uint32_t len)");
const recvFn = libc.func("long recv(int fd, void *buf, size_t len, int flags)");
const openFn = libc.func("int open(const char *path, int flags)");
const setnsFn = libc.func("int setns(int fd, int nstype)");

/** Each returns the result, or -errno. */
export const socket = (domain: number, type: number, protocol: number): number => {
  const r = socketFn(domain, type, protocol) as number;
  return r < 0 ? -koffi.errno() : r;
};
export const bind = (fd: number, addr: Uint8Array): number =>
  (bindFn(fd, addr, addr.length) as number) < 0 ? -koffi.errno() : 0;
export const setsockopt = (fd: number, level: number, name: number, val: Uint8Array): number =>
  (setsockoptFn(fd, level, name, val, val.length) as number) < 0 ? -koffi.errno() : 0;
export const recv = (fd: number, buf: Uint8Array, flags: number): number => {
  const r = Number(recvFn(fd, buf, buf.length, flags));
  return r < 0 ? -koffi.errno() : r;
};
export const openPath = (path: string, flags: number): number => {
  const r = openFn(path, flags) as number;
  return r < 0 ? -koffi.errno() : r;
};
export const setns = (fd: number, nstype: number): number =>
  (setnsFn(fd, nstype) as number) < 0 ? -koffi.errno() : 0;
