// The selectors of the command line: their options (flags, help, parsing: the mark, a pcap filter
// compiled for both link types, a network namespace given as a path, a name or an inode number, a device
// name checked for length and, when it can be, for existence) and the session's Selection made from them.
// Their eBPF is program/selectors/.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { UsageError } from "../core/errors.js";
import { compilePcapFilter } from "../filter/index.js";
import type { PcapFilter } from "../program/selectors/pcap.js";
import type { SessionConfig } from "../session/config.js";
import type { Options, Spec } from "./options.js";
import { parseCount, parseU32 } from "./values.js";

/** Compiles `expr` for Ethernet frames and for raw IP. libpcap's message for a bad expression (exit 2);
 * a filter only the Ethernet compile takes (vlan, ether, arp) has no raw program. `hint`: added to the
 * message, for trailing words that may have been meant as a command. */
export function compileSelectionFilter(expr: string, hint?: string): PcapFilter {
  let ethernet: PcapFilter["ethernet"];
  try {
    ethernet = compilePcapFilter(expr, { linktype: "ethernet" }).cbpf;
  } catch (e) {
    if (e instanceof UsageError && hint) throw new UsageError(`${e.message} (${hint})`);
    throw e;
  }
  try {
    return { expr, ethernet, raw: compilePcapFilter(expr, { linktype: "raw" }).cbpf };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { expr, ethernet };
  }
}

export const NETNS_DIR = "/var/run/netns";

/** --netns: an inode number, a path (/var/run/netns/NAME, /proc/PID/ns/net) or a name under /var/run/netns.
 * The inode of the namespace file (stat follows /proc's link) is the namespace's ns.inum. */
export function netnsInode(flag: string, v: string): number {
  const s = v.trim();
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n === 0 || n > 0xffffffff) throw new UsageError(`${flag}: ${v} is not a namespace's inode number`);
    return n;
  }
  const path = s.includes("/") ? s : `${NETNS_DIR}/${s}`;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such namespace"
        : code === "EACCES"
          ? "permission denied"
          : (e as Error).message;
    throw new UsageError(
      `${flag} ${v}: ${why} (give a name from ip netns list, a path like /proc/PID/ns/net, or an inode number)`,
    );
  }
  // A namespace file lives on nsfs: the same device as this process's own namespace files.
  let nsfsDev: number | undefined;
  try {
    nsfsDev = statSync("/proc/self/ns/net").dev;
  } catch {}
  if (nsfsDev !== undefined && st.dev !== nsfsDev)
    throw new UsageError(
      `${flag} ${v}: ${path} is not a namespace file (give a name from ip netns list, /proc/PID/ns/net, or an inode number)`,
    );
  return st.ino;
}

export const IFNAMSIZ = 16;

/** --ifname: a device name fits dev->name with its NUL. */
export function checkIfname(flag: string, v: string): string {
  if (v === "" || Buffer.byteLength(v, "latin1") > IFNAMSIZ - 1 || /[\s/\0]/.test(v))
    throw new UsageError(`${flag}: "${v}" is not a device name (at most 15 characters, no spaces or /)`);
  return v;
}

/** A warning when no device of that name exists where it can be checked: in this namespace, or in the
 * namespace --netns names by a path. Nothing when it cannot be checked (an inode number). */
export function missingDeviceWarning(ifname: string, netns: string | undefined): string | undefined {
  if (netns === undefined) {
    if (existsSync(`/sys/class/net/${ifname}`)) return undefined;
    return `no device named ${ifname} in this network namespace (tracing anyway: one created later matches; add --netns for another namespace)`;
  }
  const s = netns.trim();
  if (/^[0-9]+$/.test(s)) return undefined;
  const path = s.includes("/") ? s : `${NETNS_DIR}/${s}`;
  const r = spawnSync("nsenter", [`--net=${path}`, "ip", "-o", "link", "show", "dev", ifname], {
    encoding: "utf8",
  });
  if (r.error || r.status === null) return undefined; // nsenter or ip missing: nothing to say
  if (r.status === 0 || !/does not exist/.test(r.stderr)) return undefined;
  return `no device named ${ifname} in the namespace ${netns} (tracing anyway: one created later matches)`;
}

/** The selectors' options, in --help's order. */
export const SELECTOR_OPTIONS: Spec[] = [
  {
    short: "m",
    long: "mark",
    arg: "MARK",
    help: "trace packets whose skb->mark matches MARK (decimal or 0x hex, not 0)",
    set: (o, v, f) => {
      o.mark = parseU32(f, v, "the mark");
      if (o.mark === 0)
        throw new UsageError(`${f}: 0 would match every unmarked packet; choose a non-zero mark`);
    },
  },
  {
    long: "mask",
    arg: "MASK",
    help: "compare only these bits: (skb->mark & MASK) == (MARK & MASK) (default 0xffffffff)",
    set: (o, v, f) => {
      o.mask = parseU32(f, v, "the mask");
      if (o.mask === 0)
        throw new UsageError(`${f}: a mask of 0 matches every packet; choose a non-zero mask`);
    },
  },
  {
    short: "f",
    long: "filter",
    arg: "EXPR",
    help: "trace packets a pcap filter (tcpdump's language) matches, e.g. 'udp dst port 53'; words before -- are one too",
    set: (o, v, f) => {
      if (v.trim() === "") throw new UsageError(`${f}: give a filter, e.g. ${f} 'tcp port 80'`);
      o.filterOpts.push(v);
    },
  },
  {
    long: "netns",
    arg: "NS",
    help: "trace packets of one network namespace: a name (ip netns), /proc/PID/ns/net, or an inode number",
    set: (o, v, f) => {
      o.netns = v;
      o.netnsInum = netnsInode(f, v);
    },
  },
  {
    long: "ifname",
    arg: "NAME",
    help: "trace packets on the device NAME (skb->dev; with --netns for a device of another namespace)",
    set: (o, v, f) => {
      o.ifname = checkIfname(f, v);
    },
  },
  {
    long: "ifindex",
    arg: "N",
    help: "trace packets on the device with index N (skb->dev->ifindex)",
    set: (o, v, f) => {
      o.ifindex = parseCount(f, v);
      if (o.ifindex > 0x7fffffff) throw new UsageError(`${f}: ${v} is not a device index`);
    },
  },
];

/** The selectors beyond the mark; without -m, a filter, a device or a namespace selects alone. */
export function selectionOf(o: Options): Partial<SessionConfig> {
  const s: Partial<SessionConfig> = { markTest: o.mark !== undefined, track: o.track };
  if (o.trackMax !== undefined) s.trackMax = o.trackMax;
  if (o.filter) s.filter = o.filter;
  if (o.netnsInum !== undefined) s.netnsInum = o.netnsInum;
  if (o.netns !== undefined) s.netns = o.netns;
  if (o.ifname !== undefined) s.ifname = o.ifname;
  if (o.ifindex !== undefined) s.ifindex = o.ifindex;
  return s;
}
