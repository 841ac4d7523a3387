// A network namespace's name from its inode (the number a record's device part carries): the name `ip netns`
// gave it (a bind mount in /run/netns, whose inode is the namespace's), else the process that holds it (the
// lowest pid whose /proc/PID/ns/net is that namespace, its command name, and the container its cgroup
// shows), else "netns:INODE". Each namespace is looked up once and its name kept: a namespace gone by then
// keeps its inode text. The look-ups are synchronous file reads, made the first time a namespace is seen,
// never per event.
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Container {
  /** "docker", "podman", "containerd", "crio", "lxc", or "pod" (a Kubernetes pod, by its uid). */
  runtime: string;
  /** The container id (the 12 hex digits `docker ps` shows), the pod's uid, or the LXC container's name. */
  id: string;
}

export interface NamespaceName {
  inode: number;
  /** "ns1" (ip netns), "root" (the initial namespace, kernel threads'), "nginx[1234]" or "docker:3f2a1b4c5d6e/nginx[1234]" (a process), "netns:4026532000". */
  text: string;
  source: "ip-netns" | "root" | "process" | "inode";
  pid?: number;
  command?: string;
  container?: Container;
}

export interface NamespaceRoots {
  /** Where /proc is (tests give a directory they made). */
  proc?: string;
  /** Where `ip netns` keeps its bind mounts. */
  netns?: string;
}

const NET_LINK = /^net:\[(\d+)\]$/;
const HEX64 = "([0-9a-f]{64})";
/** cgroup paths of the container runtimes, most specific first (a pod's containers also show their own). */
const CONTAINER_PATTERNS: [RegExp, string][] = [
  [/kubepods[^\n]*?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/, "pod"],
  [new RegExp(`docker-${HEX64}\\.scope`), "docker"],
  [new RegExp(`/docker/${HEX64}`), "docker"],
  [new RegExp(`libpod-${HEX64}\\.scope`), "podman"],
  [new RegExp(`cri-containerd-${HEX64}\\.scope`), "containerd"],
  [new RegExp(`crio-${HEX64}\\.scope`), "crio"],
  [/lxc\.payload\.([^/\s]+)/, "lxc"],
  [/\/lxc\/([^/\s]+)/, "lxc"],
];

/** The container a process's /proc/PID/cgroup text places it in, if any. */
export function containerOf(cgroup: string): Container | undefined {
  for (const [re, runtime] of CONTAINER_PATTERNS) {
    const m = re.exec(cgroup);
    if (!m) continue;
    const id = m[1]!;
    if (runtime === "pod") return { runtime, id: id.replaceAll("_", "-") };
    return { runtime, id: runtime === "lxc" ? id : id.slice(0, 12) };
  }
  return undefined;
}

function tryRead<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

export class NamespaceNames {
  private readonly proc: string;
  private readonly netns: string;
  private readonly names = new Map<number, NamespaceName>();
  /** Namespace inode -> lowest pid in it, from the last scan of /proc (rescanned for a namespace not in it). */
  private holders = new Map<number, number>();

  constructor(roots: NamespaceRoots = {}) {
    this.proc = roots.proc ?? "/proc";
    this.netns = roots.netns ?? "/run/netns";
  }

  /** The namespace's name text; 0 (no namespace known) is "-". */
  text(inode: number): string {
    return inode === 0 ? "-" : this.lookup(inode).text;
  }

  /** The namespace's name, looked up the first time and kept. */
  lookup(inode: number): NamespaceName {
    let n = this.names.get(inode);
    if (!n) {
      n = this.ipNetns(inode) ??
        this.root(inode) ??
        this.process(inode) ?? { inode, text: `netns:${inode}`, source: "inode" };
      this.names.set(inode, n);
    }
    return n;
  }

  private ipNetns(inode: number): NamespaceName | undefined {
    const entries = tryRead(() => readdirSync(this.netns)) ?? [];
    for (const name of entries.sort()) {
      if (tryRead(() => statSync(join(this.netns, name)).ino) === inode)
        return { inode, text: name, source: "ip-netns" };
    }
    return undefined;
  }

  /** The initial namespace is kthreadd's (pid 2: kernel threads never leave it). Named for what it is rather
   * than for its lowest pid, which a sandboxed init can hide (then kthreadd itself would name it). */
  private root(inode: number): NamespaceName | undefined {
    const comm = tryRead(() => readFileSync(join(this.proc, "2", "comm"), "utf8").trim());
    return comm === "kthreadd" && this.holderIn(2) === inode
      ? { inode, text: "root", source: "root" }
      : undefined;
  }

  private scan(): void {
    const pids = (tryRead(() => readdirSync(this.proc)) ?? [])
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .sort((a, b) => a - b);
    const holders = new Map<number, number>();
    for (const pid of pids) {
      const ns = this.holderIn(pid);
      if (ns !== undefined && !holders.has(ns)) holders.set(ns, pid);
    }
    this.holders = holders;
  }

  private holderIn(pid: number): number | undefined {
    const link = tryRead(() => readlinkSync(join(this.proc, String(pid), "ns", "net")));
    const m = link ? NET_LINK.exec(link) : null;
    return m ? Number(m[1]) : undefined;
  }

  private process(inode: number): NamespaceName | undefined {
    // A pid from an earlier scan may have exited (or its number been reused) since: scan again then.
    const known = this.holders.get(inode);
    if (known === undefined || this.holderIn(known) !== inode) this.scan();
    const pid = this.holders.get(inode);
    if (pid === undefined) return undefined;
    const dir = join(this.proc, String(pid));
    const command = tryRead(() => readFileSync(join(dir, "comm"), "utf8").trim()) ?? "?";
    const cgroup = tryRead(() => readFileSync(join(dir, "cgroup"), "utf8"));
    const container = cgroup === undefined ? undefined : containerOf(cgroup);
    const proc = `${command}[${pid}]`;
    const n: NamespaceName = {
      inode,
      text: container ? `${container.runtime}:${container.id}/${proc}` : proc,
      source: "process",
      pid,
      command,
    };
    if (container) n.container = container;
    return n;
  }
}
