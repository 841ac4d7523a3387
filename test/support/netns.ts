// Two network namespaces joined by a veth pair, with nftables rules that mark one port's traffic in both
// (crossing namespaces clears skb->mark, so each side marks again), or in the first only. Removed by remove(), also on failure.
import { spawnSync } from "node:child_process";
import { ROOT } from "./run.js";

export const TRAFFIC = `${ROOT}dist/test/support/traffic.js`;

export interface VethPair {
  nsA: string;
  nsB: string;
  devA: string;
  devB: string;
  addrA: string;
  addrB: string;
  remove(): void;
}

function run(cmd: string[], input?: string): { status: number; err: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", ...(input ? { input } : {}) });
  return { status: r.status ?? -1, err: (r.stderr || r.error?.message || "").trim() };
}

/** Why the pair cannot be made here, or undefined. */
export function netnsSkipReason(): string | undefined {
  for (const tool of ["ip", "nft"]) {
    if (run(["sh", "-c", `command -v ${tool}`]).status !== 0) return `needs ${tool} (iproute2, nftables)`;
  }
  const probe = "ipftprobe";
  const r = run(["ip", "link", "add", `${probe}0`, "type", "veth", "peer", "name", `${probe}1`]);
  if (r.status !== 0) return `cannot create a veth pair: ${r.err}`;
  run(["ip", "link", "del", `${probe}0`]);
  const t = run(["nft", "-f", "-"], "table inet ipft_probe { }\ndelete table inet ipft_probe\n");
  if (t.status !== 0) return `nftables does not work here: ${t.err}`;
  return undefined;
}

/** Rules that set `mark` on TCP/UDP packets to or from `port`, as they leave and as they arrive. */
function markRules(port: number, mark: number): string {
  const set = (hook: string) =>
    `chain ${hook} { type filter hook ${hook === "pre" ? "prerouting" : "output"} priority -300; ` +
    `meta l4proto { tcp, udp } th dport ${port} meta mark set ${mark}; ` +
    `meta l4proto { tcp, udp } th sport ${port} meta mark set ${mark}; }`;
  return `table inet ipft_test {\n${set("pre")}\n${set("out")}\n}\n`;
}

/** `markIn`: the namespaces whose nftables rules mark the port's traffic (default both). */
export function makeVethPair(
  prefix: string,
  port: number,
  mark: number,
  opts: { markIn?: "both" | "a" } = {},
): VethPair {
  const p: VethPair = {
    nsA: `${prefix}a`,
    nsB: `${prefix}b`,
    devA: `${prefix}0`,
    devB: `${prefix}1`,
    addrA: "10.201.0.1",
    addrB: "10.201.0.2",
    remove() {
      run(["ip", "netns", "del", p.nsA]);
      run(["ip", "netns", "del", p.nsB]);
    },
  };
  p.remove();
  const steps: [string[], string?][] = [
    [["ip", "netns", "add", p.nsA]],
    [["ip", "netns", "add", p.nsB]],
    [["ip", "link", "add", p.devA, "netns", p.nsA, "type", "veth", "peer", "name", p.devB, "netns", p.nsB]],
    [["ip", "-n", p.nsA, "addr", "add", `${p.addrA}/24`, "dev", p.devA]],
    [["ip", "-n", p.nsB, "addr", "add", `${p.addrB}/24`, "dev", p.devB]],
    [["ip", "-n", p.nsA, "link", "set", p.devA, "up"]],
    [["ip", "-n", p.nsB, "link", "set", p.devB, "up"]],
    [["ip", "-n", p.nsA, "link", "set", "lo", "up"]],
    [["ip", "-n", p.nsB, "link", "set", "lo", "up"]],
    [["ip", "netns", "exec", p.nsA, "nft", "-f", "-"], markRules(port, mark)],
  ];
  if (opts.markIn !== "a")
    steps.push([["ip", "netns", "exec", p.nsB, "nft", "-f", "-"], markRules(port, mark)]);
  for (const [cmd, input] of steps) {
    const r = run(cmd, input);
    if (r.status !== 0) {
      p.remove();
      throw new Error(`${cmd.join(" ")} failed: ${r.err}`);
    }
  }
  return p;
}

/** A shell command: a server in `serverNs`, then a client in `clientNs` that sends `size` bytes. */
export function trafficCommand(o: {
  kind: "tcp" | "udp";
  serverNs: string;
  clientNs: string;
  host: string;
  port: number;
  srcPort: number;
  size: number;
  ready: string;
}): string[] {
  const node = process.execPath;
  const q = (s: string) => `'${s}'`;
  const server = [
    "ip",
    "netns",
    "exec",
    o.serverNs,
    node,
    TRAFFIC,
    "server",
    o.kind,
    o.host,
    o.port,
    o.ready,
  ];
  const client = [
    "ip",
    "netns",
    "exec",
    o.clientNs,
    node,
    TRAFFIC,
    "client",
    o.kind,
    o.host,
    o.port,
    o.srcPort,
    o.size,
    o.ready,
  ];
  return [
    "sh",
    "-c",
    `rm -f ${q(o.ready)}; ${server.map(String).map(q).join(" ")} & ${client.map(String).map(q).join(" ")}; s=$?; wait; exit $s`,
  ];
}
