// Three network namespaces in a line, for kernel tests of forwarded traffic:
//
//   <prefix>c             <prefix>r                           <prefix>s
//   client  veth-c --- veth-rc  [router]  veth-rs --- veth-s  server
//   10.203.1.2            10.203.1.1      10.203.2.1          10.203.2.2
//   fd03:1::2             fd03:1::1       fd03:2::1           fd03:2::2
//
// The router forwards IPv4 and IPv6; client and server route everything through it. Names are made from
// the prefix, so fixtures with different prefixes can exist at once (addresses and devices live inside
// the namespaces). API:
//   routerSkipReason()           why the fixture cannot be made here, or undefined
//   makeRouter(prefix)           makes it (after removing a leftover of the same prefix); throws, having
//                                removed what it made, when a step fails
//   r.nft(ns, ruleset)           loads nftables rules into one namespace (gone with it: remove() clears all)
//   r.exec(ns, argv)             argv run inside a namespace (`ip netns exec NS ...`), e.g. after ipft's --
//   r.counter(ns, table)         the packets an nftables table's counters counted (summed)
//   r.remove()                   deletes the three namespaces (their devices and rules with them)
// Rulesets for nft(): forwardDrop (router), masquerade (router, server side), markOutput (client: the
// client's traffic leaves marked, as with SO_MARK; the mark is cleared crossing the veth). Traffic, as shell
// lines for shell(...lines), the command after ipft's --: tcpConnection (a server in the server, a client
// in the client, from traffic.ts), connectAttempt (may be refused or unanswered); r.exec for the rest (ping).
import { spawnSync } from "node:child_process";
import { netnsSkipReason, TRAFFIC } from "./netns.js";

export type Side = "client" | "router" | "server";

export const ADDR = {
  client: { v4: "10.203.1.2", v6: "fd03:1::2" },
  routerClientSide: { v4: "10.203.1.1", v6: "fd03:1::1" },
  routerServerSide: { v4: "10.203.2.1", v6: "fd03:2::1" },
  server: { v4: "10.203.2.2", v6: "fd03:2::2" },
} as const;

export interface Router {
  ns: Record<Side, string>;
  nft(side: Side, ruleset: string): void;
  exec(side: Side, argv: (string | number)[]): string[];
  counter(side: Side, table: string): number;
  remove(): void;
}

function run(cmd: string[], input?: string): { status: number; out: string; err: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", ...(input ? { input } : {}) });
  return { status: r.status ?? -1, out: r.stdout ?? "", err: (r.stderr || r.error?.message || "").trim() };
}

export const routerSkipReason = netnsSkipReason;

/** Router: drops TCP to `port` in its forward chain, counting (table inet ipft_fwd). */
export const forwardDrop = (port: number): string =>
  `table inet ipft_fwd {\nchain forward { type filter hook forward priority 0; tcp dport ${port} counter drop; }\n}\n`;

/** Router: masquerades what leaves towards the server (table inet ipft_nat). */
export const masquerade = (): string =>
  'table inet ipft_nat {\nchain post { type nat hook postrouting priority 100; oifname "veth-rs" counter masquerade; }\n}\n';

/** Client: marks the TCP and UDP it sends to these ports (table inet ipft_mark). */
export const markOutput = (ports: number[], mark: number): string =>
  `table inet ipft_mark {\nchain out { type filter hook output priority -300; meta l4proto { tcp, udp } th dport { ${ports.join(", ")} } meta mark set ${mark}; }\n}\n`;

export function makeRouter(prefix: string): Router {
  const ns: Record<Side, string> = { client: `${prefix}c`, router: `${prefix}r`, server: `${prefix}s` };
  const r: Router = {
    ns,
    nft(side, ruleset) {
      must(["ip", "netns", "exec", ns[side], "nft", "-f", "-"], ruleset);
    },
    exec: (side, argv) => ["ip", "netns", "exec", ns[side], ...argv.map(String)],
    counter(side, table) {
      const out = must(["ip", "netns", "exec", ns[side], "nft", "list", "table", "inet", table]);
      return [...out.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    },
    remove() {
      for (const n of Object.values(ns)) run(["ip", "netns", "del", n]);
    },
  };
  r.remove();
  // One shell runs every step (a process each costs seconds in a slow VM); the first failure stops it.
  const { client: c, router: rr, server: sv } = ns;
  const script = [
    ...Object.values(ns).flatMap((n) => [
      `ip netns add ${n}`,
      // No duplicate address detection on the devices to come (link-local ones included): usable at once.
      `ip netns exec ${n} sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'`,
    ]),
    `ip -n ${c} link add veth-c type veth peer name veth-rc netns ${rr}`,
    `ip -n ${sv} link add veth-s type veth peer name veth-rs netns ${rr}`,
    ...addrs(c, "veth-c", ADDR.client),
    ...addrs(rr, "veth-rc", ADDR.routerClientSide),
    ...addrs(rr, "veth-rs", ADDR.routerServerSide),
    ...addrs(sv, "veth-s", ADDR.server),
    ...Object.values(ns).map((n) => `ip -n ${n} link set lo up`),
    `ip netns exec ${rr} sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'`,
    `ip -n ${c} route add default via ${ADDR.routerClientSide.v4}`,
    `ip -n ${c} -6 route add default via ${ADDR.routerClientSide.v6}`,
    `ip -n ${sv} route add default via ${ADDR.routerServerSide.v4}`,
    `ip -n ${sv} -6 route add default via ${ADDR.routerServerSide.v6}`,
    // IPv6 neighbour discovery needs each device's link-local address, which the kernel adds only once it
    // has seen the carrier come up (up to a second later): until then IPv6 packets wait.
    ...[
      [c, "veth-c"],
      [rr, "veth-rc"],
      [rr, "veth-rs"],
      [sv, "veth-s"],
    ].map(
      ([n, dev]) =>
        `i=0; until ip -n ${n} -6 addr show dev ${dev} scope link | grep -q fe80; do ` +
        `i=$((i + 1)); [ $i -lt 250 ] || { echo "${dev} in ${n}: no IPv6 link-local address after 5 s" >&2; exit 1; }; sleep 0.02; done`,
    ),
    // Neighbours resolved now: a test's first packet is not held (and copied) while they are.
    `ip netns exec ${c} ping -q -c 1 -W 2 ${ADDR.server.v4} >/dev/null`,
    `ip netns exec ${c} ping -q -c 1 -W 2 ${ADDR.server.v6} >/dev/null`,
  ].join("\n");
  const made = run(["sh", "-ec", script]);
  if (made.status !== 0) {
    r.remove();
    throw new Error(`the router fixture (${prefix}) could not be made: ${made.err}`);
  }
  return r;
}

/** IPv4 and IPv6 addresses on a device, then up. */
function addrs(n: string, dev: string, a: { v4: string; v6: string }): string[] {
  return [
    `ip -n ${n} addr add ${a.v4}/24 dev ${dev}`,
    `ip -n ${n} -6 addr add ${a.v6}/64 dev ${dev}`,
    `ip -n ${n} link set ${dev} up`,
  ];
}

function must(cmd: string[], input?: string): string {
  const r = run(cmd, input);
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.err}`);
  return r.out;
}

const q = (s: string | number) => `'${s}'`;

/** Shell lines joined into one command for after ipft's --, e.g. shell(connectAttempt(...), tcpConnection(...)). */
export const shell = (...lines: string[]): string[] => ["sh", "-c", lines.join("; ")];

/** A shell line: a TCP server in the server namespace, then a client in the client namespace connecting
 * from `srcPort` and sending `size` bytes (the whole connection, closed by both); `ready` is a scratch file. */
export function tcpConnection(
  r: Router,
  o: { host: string; port: number; srcPort: number; size: number; ready: string },
): string {
  const node = process.execPath;
  const server = r.exec("server", [node, TRAFFIC, "server", "tcp", o.host, o.port, o.ready]);
  const client = r.exec("client", [
    node,
    TRAFFIC,
    "client",
    "tcp",
    o.host,
    o.port,
    o.srcPort,
    o.size,
    o.ready,
  ]);
  return `rm -f ${q(o.ready)}; ${server.map(q).join(" ")} & ${client.map(q).join(" ")}; wait`;
}

/** A shell line: a TCP connection attempt from the client that may fail (a dropped SYN, a reset), given up
 * after `ms`. */
export function connectAttempt(r: Router, host: string, port: number, ms: number): string {
  return r.exec("client", [process.execPath, TRAFFIC, "attempt", "tcp", host, port, ms]).map(q).join(" ");
}
