// A netlink socket that listens to one multicast group, opened in a given network namespace (the socket
// stays in the namespace it was made in; the thread goes back to its own at once), read without blocking.
import { SysError } from "./errno.js";
import { bind, close, openPath, recv, setns, setsockopt, socket } from "./libc.js";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const CLONE_NEWNET = 0x40000000;
const O_RDONLY_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const ENOBUFS = 105;

export const NETLINK_NETFILTER = 12;

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** Runs `fn` with this thread in the network namespace at `path` (undefined: the current one). */
function inNetns<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  const self = openPath("/proc/thread-self/ns/net", O_RDONLY_CLOEXEC);
  if (self < 0) throw new SysError("open(/proc/thread-self/ns/net)", -self);
  const target = openPath(path, O_RDONLY_CLOEXEC);
  const entered = target < 0 ? target : setns(target, CLONE_NEWNET);
  close(target);
  if (entered < 0) {
    close(self);
    throw new SysError(target < 0 ? `open(${path})` : `setns(${path})`, -entered);
  }
  let result: { value: T } | { error: unknown };
  try {
    result = { value: fn() };
  } catch (error) {
    result = { error };
  }
  const back = setns(self, CLONE_NEWNET);
  close(self);
  if (back < 0) throw new SysError("setns(back to ipft's own network namespace)", -back);
  if ("error" in result) throw result.error;
  return result.value;
}

export class NetlinkListener {
  private readonly buf = new Uint8Array(256 << 10);
  /** Times the kernel found the socket's buffer full (ENOBUFS): messages were lost. */
  overruns = 0;

  private constructor(readonly fd: number) {}

  /** A socket of `protocol` in the namespace at `netnsPath` (undefined: ipft's), member of `group`. */
  static open(protocol: number, group: number, netnsPath?: string, rcvbuf = 4 << 20): NetlinkListener {
    const fd = inNetns(netnsPath, () =>
      socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol),
    );
    if (fd < 0) throw new SysError("socket(AF_NETLINK)", -fd);
    const l = new NetlinkListener(fd);
    try {
      const addr = new Uint8Array(12); // sockaddr_nl: family, pad, pid 0 (the kernel picks), groups 0
      new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
      let r = bind(fd, addr);
      if (r < 0) throw new SysError("bind(netlink)", -r);
      r = setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, u32(group));
      if (r < 0) throw new SysError(`setsockopt(NETLINK_ADD_MEMBERSHIP ${group})`, -r);
      // Past net.core.rmem_max with CAP_NET_ADMIN; else as much as rmem_max allows.
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, u32(rcvbuf)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, u32(rcvbuf));
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  /** Every datagram waiting now, each a copy (one may hold several netlink messages). */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const n = recv(this.fd, this.buf, MSG_DONTWAIT);
      if (n === -EAGAIN) return out;
      if (n === -ENOBUFS) {
        this.overruns++;
        continue;
      }
      if (n < 0) throw new SysError("recv(netlink)", -n);
      out.push(this.buf.slice(0, n));
    }
  }

  close(): void {
    close(this.fd);
  }
}
