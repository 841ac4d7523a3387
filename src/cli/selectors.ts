// The selectors of the command line made into values: a pcap filter compiled for both link types, a
// network namespace given as a path, a name or an inode number, a device name checked for length (and,
// when it can be, for existence).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { UsageError } from "../core/errors.js";
import { compilePcapFilter } from "../filter/index.js";
import type { Selection } from "../session/config.js";

export type CompiledSelectionFilter = NonNullable<Selection["filter"]>;

/** Compiles `expr` for Ethernet frames and for raw IP. libpcap's message for a bad expression (exit 2);
 * a filter only the Ethernet compile takes (vlan, ether, arp) has no raw program. `hint`: added to the
 * message, for trailing words that may have been meant as a command. */
export function compileSelectionFilter(expr: string, hint?: string): CompiledSelectionFilter {
  let ethernet: CompiledSelectionFilter["ethernet"];
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
