// Facts that stay (sysctls, routes, device MTUs), read in user space inside a drop's network namespace, once
// per (namespace, key) and kept: never on the kernel's event path, and marked by explain/facts.ts as read
// after the drop. A namespace is entered through its `ip netns` bind mount or a process in it
// (identity/namespace-names.ts finds both) with nsenter, and only when that path is still the namespace
// the drop was in (its inode). A read that fails gives undefined with why, never a guess. A socket's
// owners are found by its inode in every process's open files (/proc/PID/fd), in no namespace.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { ipv4Text, ipv6Text } from "../identity/addresses.js";
import type { NamespaceNames } from "../identity/namespace-names.js";

export type Read = { value: string } | { missing: string };

/** What explain/facts.ts asks of the system (tests give their own). */
export interface SystemLookups {
  /** The namespace's name (ip netns, a process, or netns:INODE). */
  namespace(netns: number): string;
  /** /proc/sys/<key> inside the namespace, trimmed (`net/ipv4/conf/veth0/rp_filter`). */
  sysctl(netns: number, key: string): Read;
  /** The device a packet to `dst` would leave by, and its MTU (`ip route get`, `ip link`). */
  route(netns: number, dst: string): { dev: string; mtu: number } | { missing: string };
  /** The device's root queueing discipline (`tc -j qdisc show dev DEV`). */
  qdisc(netns: number, dev: string): Qdisc | { missing: string };
  /** The tc filters on the device's ingress or egress hook (`tc -j filter show dev DEV ingress`). */
  filters(netns: number, dev: string, hook: "ingress" | "egress"): TcFilter[] | { missing: string };
  /** The next hop toward `dst` (the route's gateway, else `dst`), its device, and its neighbour entry's
   * state (`ip route get`, `ip -j neigh show`; [] when there is no entry). */
  neighbour(netns: number, dst: string): Neighbour | { missing: string };
  /** The processes holding the socket with inode `inode` open (/proc/PID/fd: socket:[INODE]). */
  owners(inode: number): Owner[] | { missing: string };
  /** The UDP socket bound to `addr`:`port` (or to any address at that port), from /proc/net/udp(6) inside
   * the namespace: for kernels whose kfree_skb gives no socket. */
  udpSocket(netns: number, addr: string, port: number): UdpSocket | { missing: string };
  /** The XDP program attached to the device (`ip -j -d link show dev DEV`; none: undefined). */
  xdp(netns: number, dev: string): XdpProgram | { none: true } | { missing: string };
}

/** A UDP socket as /proc/net/udp lists it: its local address, inode, bytes queued and drops so far. */
export interface UdpSocket {
  local: string;
  inode: number;
  queued: number;
  drops: number;
}

/** The socket of /proc/net/udp(6) text `text` bound to `addr`:`port`, else one bound to any address there. */
export function udpSocketIn(text: string, addr: string, port: number): UdpSocket | undefined {
  let any: UdpSocket | undefined;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [hexAddr, hexPort] = f[1]!.split(":");
    if (Number.parseInt(hexPort ?? "", 16) !== port) continue;
    const local = procAddress(hexAddr ?? "");
    const s = {
      local: local.includes(":") ? `[${local}]:${port}` : `${local}:${port}`,
      inode: Number(f[9]),
      queued: Number.parseInt(f[4]!.split(":")[1] ?? "", 16),
      drops: Number(f[12]),
    };
    if (local === addr) return s;
    if (local === "0.0.0.0" || local === "::") any ??= s;
  }
  return any;
}

/** An address as /proc/net/udp writes it: 32-bit words in host order (little-endian), as hex. */
function procAddress(hex: string): string {
  const b = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++)
    for (let i = 0; i < 4; i++)
      b[w * 4 + i] = Number.parseInt(hex.slice(w * 8 + (3 - i) * 2, w * 8 + (4 - i) * 2), 16);
  return b.length === 4 ? ipv4Text(b, 0) : ipv6Text(b, 0);
}

/** A process holding a socket open. */
export interface Owner {
  pid: number;
  comm: string;
}

/** An XDP program attached to a device, and how (generic: skb mode, driver, offloaded). */
export interface XdpProgram {
  id: number;
  name: string;
  mode: string;
}

const XDP_MODES: Record<number, string> = { 1: "driver", 2: "generic", 3: "offloaded" };

/** The XDP program in `ip -j -d link show` output: one attached in a single mode, or each of several. */
export function xdpOf(json: string): XdpProgram | { none: true } | { missing: string } {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return { missing: "ip -j link show printed no JSON" };
  }
  const link = Array.isArray(list) ? (list[0] as Record<string, unknown> | undefined) : undefined;
  if (!link) return { missing: "ip -j link show printed no device" };
  const x = link.xdp as
    | { mode?: number; prog?: { id?: number; name?: string }; attached?: unknown[] }
    | undefined;
  if (!x) return { none: true };
  const one = (mode: number | undefined, prog: { id?: number; name?: string } | undefined) =>
    typeof prog?.id === "number"
      ? { id: prog.id, name: String(prog.name ?? ""), mode: XDP_MODES[mode ?? 0] ?? `mode ${mode}` }
      : undefined;
  // Several modes at once (XDP_ATTACHED_MULTI): the generic one is the one that frees skbs.
  const attached = (x.attached ?? []) as { mode?: number; prog?: { id?: number; name?: string } }[];
  const p =
    one(x.mode, x.prog) ??
    one(2, attached.find((a) => a.mode === 2)?.prog) ??
    one(attached[0]?.mode, attached[0]?.prog);
  return p ?? { none: true };
}

/** The processes with socket:[INODE] among their open files, under `proc`. */
export function socketOwners(proc: string, inode: number): Owner[] {
  const want = `socket:[${inode}]`;
  const out: Owner[] = [];
  for (const pid of readdirSafe(proc)) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = join(proc, pid, "fd");
    if (!readdirSafe(fds).some((fd) => readlinkSafe(join(fds, fd)) === want)) continue;
    let comm = "";
    try {
      comm = readFileSync(join(proc, pid, "comm"), "utf8").trim();
    } catch {}
    out.push({ pid: Number(pid), comm });
  }
  return out;
}

const readdirSafe = (p: string): string[] => {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
};
const readlinkSafe = (p: string): string | undefined => {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
};

export interface Neighbour {
  address: string;
  dev: string;
  state: string[];
}

/** A tc filter: its kind (bpf, flower...) and, for a bpf filter, its program's id and name. */
export interface TcFilter {
  kind: string;
  prog?: { id: number; name: string };
  directAction?: boolean;
}

/** The filters in `tc -j filter show` output (tc prints each chain and priority's head without options). */
export function tcFilters(json: string): TcFilter[] | { missing: string } {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return { missing: "tc -j filter show printed no JSON" };
  }
  if (!Array.isArray(list)) return { missing: "tc -j filter show printed no list" };
  const out: TcFilter[] = [];
  for (const f of list as Record<string, unknown>[]) {
    const o = f?.options as Record<string, unknown> | undefined;
    if (!o || typeof f.kind !== "string") continue;
    const prog = o.prog as { id?: unknown; name?: unknown } | undefined;
    const t: TcFilter = { kind: f.kind };
    if (typeof prog?.id === "number") t.prog = { id: prog.id, name: String(prog.name ?? "") };
    if (o["direct-action"] === true) t.directAction = true;
    out.push(t);
  }
  return out;
}

/** A queueing discipline: its kind and, when it has one, its limit as tc prints it (packets or bytes). */
export interface Qdisc {
  kind: string;
  limit?: string;
}

/** The root qdisc in `tc -j qdisc show` output, or why none. */
export function rootQdisc(json: string): Qdisc | { missing: string } {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return { missing: "tc -j qdisc show printed no JSON" };
  }
  const root = Array.isArray(list)
    ? (list as Record<string, unknown>[]).find((q) => q?.root === true)
    : undefined;
  // A device that is down has only the noop qdisc, which tc does not show, and drops all it is given.
  if (!root || typeof root.kind !== "string")
    return { missing: "tc shows no root qdisc: the device may be down (its noop qdisc drops everything)" };
  const limit = (root.options as Record<string, unknown> | undefined)?.limit;
  return limit === undefined ? { kind: root.kind } : { kind: root.kind, limit: String(limit) };
}

const SELF_NET = "/proc/self/ns/net";

export class NamespaceLookups implements SystemLookups {
  private readonly kept = new Map<string, unknown>();

  constructor(
    private readonly names: NamespaceNames,
    private readonly proc = "/proc",
    private readonly netnsDir = "/run/netns",
  ) {}

  namespace(netns: number): string {
    return this.names.text(netns);
  }

  sysctl(netns: number, key: string): Read {
    if (!/^[\w.\-/]+$/.test(key) || key.includes("..")) return { missing: `not a sysctl: ${key}` };
    return this.once(`${netns} sysctl ${key}`, () => {
      const r = this.run(netns, ["cat", join("/proc/sys", key)]);
      return "missing" in r ? r : { value: r.value.trim() };
    });
  }

  route(netns: number, dst: string): { dev: string; mtu: number } | { missing: string } {
    return this.once(`${netns} route ${dst}`, () => {
      const r = this.run(netns, ["ip", "-o", "route", "get", dst]);
      if ("missing" in r) return r;
      const dev = /\bdev (\S+)/.exec(r.value)?.[1];
      if (!dev) return { missing: `no device in \`ip route get ${dst}\`` };
      // A route's own mtu (or a learned path MTU) bounds the device's.
      const routeMtu = /\bmtu (\d+)/.exec(r.value)?.[1];
      const link = this.run(netns, ["ip", "-o", "link", "show", "dev", dev]);
      if ("missing" in link) return link;
      const devMtu = /\bmtu (\d+)/.exec(link.value)?.[1];
      if (!devMtu) return { missing: `no mtu in \`ip link show dev ${dev}\`` };
      const mtu = routeMtu ? Math.min(Number(routeMtu), Number(devMtu)) : Number(devMtu);
      return { dev, mtu };
    });
  }

  qdisc(netns: number, dev: string): Qdisc | { missing: string } {
    if (!/^[\w.\-@]+$/.test(dev)) return { missing: `not a device name: ${dev}` };
    return this.once(`${netns} qdisc ${dev}`, () => {
      const r = this.run(netns, ["tc", "-j", "qdisc", "show", "dev", dev]);
      return "missing" in r ? r : rootQdisc(r.value);
    });
  }

  filters(netns: number, dev: string, hook: "ingress" | "egress"): TcFilter[] | { missing: string } {
    if (!/^[\w.\-@]+$/.test(dev)) return { missing: `not a device name: ${dev}` };
    return this.once(`${netns} filters ${dev} ${hook}`, () => {
      const r = this.run(netns, ["tc", "-j", "filter", "show", "dev", dev, hook]);
      return "missing" in r ? r : tcFilters(r.value);
    });
  }

  neighbour(netns: number, dst: string): Neighbour | { missing: string } {
    if (!/^[\da-fA-F.:]+$/.test(dst)) return { missing: `not an address: ${dst}` };
    return this.once(`${netns} neighbour ${dst}`, () => {
      const r = this.run(netns, ["ip", "-o", "route", "get", dst]);
      if ("missing" in r) return r;
      const dev = /\bdev (\S+)/.exec(r.value)?.[1];
      if (!dev) return { missing: `no device in \`ip route get ${dst}\`` };
      const address = /\bvia (?:inet6? )?(\S+)/.exec(r.value)?.[1] ?? dst;
      const n = this.run(netns, ["ip", "-j", "neigh", "show", "to", address, "dev", dev]);
      if ("missing" in n) return n;
      try {
        const list = JSON.parse(n.value) as { state?: unknown }[];
        const state = Array.isArray(list[0]?.state) ? (list[0].state as unknown[]).map(String) : [];
        return { address, dev, state };
      } catch {
        return { missing: "ip -j neigh show printed no JSON" };
      }
    });
  }

  owners(inode: number): Owner[] | { missing: string } {
    if (!Number.isInteger(inode) || inode <= 0) return { missing: "no socket inode" };
    return this.once(`owners ${inode}`, () => socketOwners(this.proc, inode));
  }

  udpSocket(netns: number, addr: string, port: number): UdpSocket | { missing: string } {
    if (!/^[\da-fA-F.:]+$/.test(addr)) return { missing: `not an address: ${addr}` };
    return this.once(`${netns} udp ${addr} ${port}`, () => {
      const file = addr.includes(":") ? "/proc/net/udp6" : "/proc/net/udp";
      const r = this.run(netns, ["cat", file]);
      if ("missing" in r) return r;
      return udpSocketIn(r.value, addr, port) ?? { missing: `no socket at ${addr}:${port} in ${file} now` };
    });
  }

  xdp(netns: number, dev: string): XdpProgram | { none: true } | { missing: string } {
    if (!/^[\w.\-@]+$/.test(dev)) return { missing: `not a device name: ${dev}` };
    return this.once(`${netns} xdp ${dev}`, () => {
      const r = this.run(netns, ["ip", "-j", "-d", "link", "show", "dev", dev]);
      return "missing" in r ? r : xdpOf(r.value);
    });
  }

  private once<T>(key: string, f: () => T): T {
    if (!this.kept.has(key)) this.kept.set(key, f());
    return this.kept.get(key) as T;
  }

  /** `argv` run in namespace `netns`: its output, or why not. */
  private run(netns: number, argv: string[]): Read {
    if (netns === 0) return { missing: "the namespace is unknown" };
    const path = this.pathOf(netns);
    if (!path) return { missing: `namespace ${this.names.text(netns)} is gone` };
    const cmd = path === SELF_NET ? argv : ["nsenter", `--net=${path}`, ...argv];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 2000 });
    if (r.status !== 0)
      return {
        missing: `${argv.join(" ")} failed: ${(r.stderr || r.error?.message || "").trim() || `status ${r.status}`}`,
      };
    return { value: r.stdout };
  }

  /** A path to the namespace with inode `netns` that is still that namespace (inodes are checked). */
  private pathOf(netns: number): string | undefined {
    const ino = (p: string): number | undefined => {
      try {
        return statSync(p).ino;
      } catch {
        return undefined;
      }
    };
    if (ino(SELF_NET) === netns) return SELF_NET;
    const n = this.names.lookup(netns);
    const candidates: string[] = [];
    if (n.source === "ip-netns") candidates.push(join(this.netnsDir, n.text));
    if (n.pid !== undefined) candidates.push(join(this.proc, String(n.pid), "ns", "net"));
    return candidates.find((p) => ino(p) === netns);
  }
}
