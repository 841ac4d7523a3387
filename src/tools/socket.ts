// UDP sockets and TCP connection attempts with SO_MARK, which Node's dgram and net cannot set: the
// marked-traffic sender uses these.
import koffi from "koffi";
import { SysError } from "../sys/errno.js";

const libc = koffi.load("libc.so.6");
const socketFn = libc.func("int socket(int domain, int type, int protocol)");
const setsockoptFn = libc.func(
  "int setsockopt(int fd, int level, int name, const void *value, uint32_t len)",
);
const sendtoFn = libc.func(
  "intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)",
);
const connectFn = libc.func("int connect(int fd, const void *addr, uint32_t addrlen)");
const closeFn = libc.func("int close(int fd)");

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_MARK = 36;

/** SO_MARK on a socket of any kind (a Node socket's fd too). */
export function setMark(fd: number, mark: number): void {
  const v = Buffer.alloc(4);
  v.writeUInt32LE(mark >>> 0);
  if ((setsockoptFn(fd, SOL_SOCKET, SO_MARK, v, 4) as number) < 0) {
    throw new SysError("setsockopt(SO_MARK)", koffi.errno(), "setting a mark needs root or CAP_NET_ADMIN");
  }
}

function sockaddrIn(ipv4: string, port: number): Buffer {
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(AF_INET, 0);
  sa.writeUInt16BE(port, 2);
  const parts = ipv4.split(".").map(Number);
  for (let i = 0; i < 4; i++) sa[4 + i] = parts[i]!;
  return sa;
}

/** One marked TCP connection attempt (its SYN carries the mark), closed at once whether it was accepted
 * or refused: true when it connected. */
export function markedTcpAttempt(mark: number, ipv4: string, port: number): boolean {
  const fd = socketFn(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new SysError("socket(AF_INET, SOCK_STREAM)", koffi.errno());
  try {
    setMark(fd, mark);
    return (connectFn(fd, sockaddrIn(ipv4, port), 16) as number) === 0;
  } finally {
    closeFn(fd);
  }
}

export class MarkedUdpSocket {
  private readonly fd: number;
  private mark = -1;

  constructor() {
    this.fd = socketFn(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
    if (this.fd < 0) throw new SysError("socket(AF_INET, SOCK_DGRAM)", koffi.errno());
  }

  /** Sets SO_MARK (needs CAP_NET_ADMIN); 0 sends unmarked. */
  setMark(mark: number): void {
    if (mark === this.mark) return;
    setMark(this.fd, mark);
    this.mark = mark;
  }

  /** Sends one datagram to an IPv4 address on this machine. */
  send(payload: Uint8Array, ipv4: string, port: number): void {
    const n = Number(sendtoFn(this.fd, payload, payload.length, 0, sockaddrIn(ipv4, port), 16));
    if (n < 0) throw new SysError("sendto", koffi.errno());
  }

  close(): void {
    closeFn(this.fd);
  }
}
