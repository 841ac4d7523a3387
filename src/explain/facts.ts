// The facts of one drop, for the causes whose facts ipft knows: from the drop-facts part the kernel took at
// the drop (the device, its MTU and namespace, the packet's network header: record/parts/drop-facts.ts),
// and from what stays in the system, read once per namespace after the fact (system-facts.ts). A fact that
// could not be read says so and why; a value read after the drop says so. A trace file keeps what the live
// run read (recorded-lookups.ts), so --read gives the same facts.

import { ipv4Text, ipv6Text } from "../identity/addresses.js";
import { decodePacket } from "../identity/decode.js";
import { type Header, type Ipv4, type Ipv6, TCP_RST } from "../identity/headers.js";
import { type DropFactsInfo, type DropSock, SOCK_NOT_GIVEN } from "../record/parts/drop-facts.js";
import { LINK_NETWORK } from "../record/record.js";
import type { Explanation, Fact } from "./explanation.js";
import type { Neighbour, Owner, SystemLookups } from "./system-facts.js";

/** The mark of a value read in user space after the drop (it may have changed since). */
export const AFTER = "read after the drop";

type Ip = Ipv4 | Ipv6;

/** What the part's bytes say of the packet. */
interface Packet {
  ip: Ip | undefined;
  l4: Header | undefined;
  /** IPv4's don't-fragment bit (undefined: not IPv4, or not read). */
  df: boolean | undefined;
}

function packetOf(p: DropFactsInfo): Packet {
  if (p.network.length === 0) return { ip: undefined, l4: undefined, df: undefined };
  const id = decodePacket(p.network, LINK_NETWORK);
  const ip = id.headers.find((h): h is Ip => h.kind === "ipv4" || h.kind === "ipv6");
  const i = ip ? id.headers.indexOf(ip) : -1;
  const l4 = i >= 0 ? id.headers[i + 1] : undefined;
  const df = ip?.kind === "ipv4" && p.network.length > 6 ? (p.network[6]! & 0x40) !== 0 : undefined;
  return { ip, l4, df };
}

const fact = (name: string, value: string): Fact => ({ name, value });
const addrPort = (ip: Ip, port: number): string =>
  ip.kind === "ipv6" ? `[${ip.dst}]:${port}` : `${ip.dst}:${port}`;
const NOT_READ = "not read (the packet's network header was not in the event)";
/** Without look-ups (a namer that reads nothing in the system). */
const LIVE_ONLY = "not read (no look-up in the system here)";

/** The facts of drop `why` (its cause) from the part `p`, looking up what stays with `sys`. */
export function dropFacts(why: Explanation, p: DropFactsInfo, sys: SystemLookups | undefined): Fact[] {
  const pkt = packetOf(p);
  const out: Fact[] = [];
  const where = (): void => {
    if (p.name) out.push(fact("device", p.name));
    out.push(
      fact("namespace", p.netns === 0 ? "unknown" : sys ? sys.namespace(p.netns) : `netns:${p.netns}`),
    );
  };
  const read = (key: string, show: (v: string) => string): string => {
    if (!sys) return LIVE_ONLY;
    const r = sys.sysctl(p.netns, key);
    return "missing" in r ? `not read (${r.missing})` : show(r.value);
  };
  switch (why.cause) {
    case "NO_SOCKET": {
      const l4 = pkt.l4;
      if (pkt.ip && l4 && (l4.kind === "udp" || l4.kind === "tcp")) {
        out.push(fact("protocol", l4.kind.toUpperCase()), fact("destination", addrPort(pkt.ip, l4.dport)));
        where();
        if (l4.kind !== "tcp")
          out.push(fact("reply", `ICMP port unreachable to ${pkt.ip.src} (unless rate-limited)`));
        else if (l4.flags === undefined)
          out.push(fact("reply", "a TCP reset unless the segment was one (its flags not read)"));
        else
          out.push(
            fact(
              "reply",
              (l4.flags & TCP_RST) !== 0 ? "none (the segment was a reset)" : `TCP reset to ${pkt.ip.src}`,
            ),
          );
      } else {
        out.push(fact("destination", NOT_READ));
        where();
      }
      break;
    }
    case "IP_RPFILTER": {
      out.push(fact("source", pkt.ip ? pkt.ip.src : NOT_READ));
      where();
      out.push(fact("rp_filter", p.name ? rpFilter(p, sys) : "not read (no device in the event)"));
      break;
    }
    case "NO_ROUTE": {
      out.push(fact("destination", pkt.ip ? pkt.ip.dst : NOT_READ));
      where();
      if (p.name && pkt.ip?.kind !== "ipv6")
        out.push(fact("forwarding", read(`net/ipv4/conf/${p.name}/forwarding`, forwarding(p.name))));
      break;
    }
    case "IP_OUTNOROUTES": {
      out.push(fact("destination", pkt.ip ? pkt.ip.dst : NOT_READ));
      out.push(
        fact("namespace", p.netns === 0 ? "unknown" : sys ? sys.namespace(p.netns) : `netns:${p.netns}`),
      );
      break;
    }
    case "TTL_EXPIRED": {
      const ip = pkt.ip;
      out.push(
        fact(
          ip?.kind === "ipv6" ? "hop_limit" : "ttl",
          ip ? String(ip.kind === "ipv6" ? ip.hopLimit : ip.ttl) : NOT_READ,
        ),
      );
      where();
      if (ip) out.push(fact("reply", `ICMP${ip.kind === "ipv6" ? "v6" : ""} time exceeded to ${ip.src}`));
      break;
    }
    case "MTU_EXCEEDED": {
      const ip = pkt.ip;
      out.push(fact("length", ip ? String(ip.length) : NOT_READ));
      if (pkt.df !== undefined) out.push(fact("df", pkt.df ? "set" : "clear"));
      if (p.name) out.push(fact("ingress", `${p.name} mtu ${p.mtu}`));
      out.push(
        fact("namespace", p.netns === 0 ? "unknown" : sys ? sys.namespace(p.netns) : `netns:${p.netns}`),
      );
      if (!ip) break;
      if (!sys) out.push(fact("egress", LIVE_ONLY));
      else {
        const r = sys.route(p.netns, ip.dst);
        out.push(
          fact("egress", "missing" in r ? `not read (${r.missing})` : `${r.dev} mtu ${r.mtu} (${AFTER})`),
        );
      }
      out.push(
        fact(
          "reply",
          `ICMP${ip.kind === "ipv6" ? "v6 packet too big" : " fragmentation needed"} to ${ip.src}`,
        ),
      );
      break;
    }
    case "QDISC_DROP":
    case "QDISC_OVERLIMIT":
    case "QDISC_CONGESTED": {
      where();
      out.push(fact("qdisc", p.name ? qdisc(p, sys) : "not read (no device in the event)"));
      break;
    }
    case "TC_INGRESS":
    case "TC_EGRESS": {
      const hook = why.cause === "TC_INGRESS" ? "ingress" : "egress";
      where();
      out.push(fact("direction", hook));
      out.push(fact("programs", p.name ? tcPrograms(p, hook, sys) : "not read (no device in the event)"));
      break;
    }
    case "SOCKET_RCVBUFF": {
      const l4 = pkt.l4;
      if (pkt.ip && l4 && (l4.kind === "udp" || l4.kind === "tcp"))
        out.push(fact("protocol", l4.kind.toUpperCase()), fact("destination", addrPort(pkt.ip, l4.dport)));
      else out.push(fact("destination", NOT_READ));
      where();
      out.push(...socketFacts(p, pkt, sys));
      break;
    }
    case "XDP": {
      where();
      out.push(fact("direction", "ingress (XDP)"));
      out.push(fact("program", p.name ? xdpProgram(p, sys) : "not read (no device in the event)"));
      break;
    }
    case "NEIGH_FAILED":
    case "NEIGH_QUEUEFULL": {
      const ip = pkt.ip;
      out.push(fact("destination", ip ? ip.dst : NOT_READ));
      where();
      if (!ip) break;
      if (!sys) out.push(fact("neighbour", LIVE_ONLY));
      else {
        const n = sys.neighbour(p.netns, ip.dst);
        out.push(fact("neighbour", "missing" in n ? `not read (${n.missing})` : neighbourText(n)));
        if (p.name) {
          const fam = ip.kind === "ipv6" ? "ipv6" : "ipv4";
          out.push(fact("probes", read(`net/${fam}/neigh/${p.name}/mcast_solicit`, probes(fam, p.name))));
        }
      }
      // arp_error_report / ndisc_error_report: the packets waiting on the entry are answered so.
      if (why.cause === "NEIGH_FAILED")
        out.push(
          fact(
            "reply",
            `ICMP${ip.kind === "ipv6" ? "v6 address unreachable" : " host unreachable"} to ${ip.src}`,
          ),
        );
      break;
    }
  }
  return out;
}

/** The socket the packet was for, as kfree_skb gave it at the drop (its rx_sk), and its owners. */
function socketFacts(p: DropFactsInfo, pkt: Packet, sys: SystemLookups | undefined): Fact[] {
  const k = p.sock;
  if (!k) {
    if (p.sockState === SOCK_NOT_GIVEN) return udpSocketAfter(p, pkt, sys);
    return [fact("socket", "not read (kfree_skb gave none)")];
  }
  const out = [
    fact("socket", sockAddress(k)),
    fact("rcvbuf", `${k.rcvbuf} bytes`),
    fact("queued", `${k.queued} bytes${k.backlog > 0 ? `, ${k.backlog} in its backlog` : ""}`),
  ];
  if (k.inode === 0) out.push(fact("owner", "not read (the socket's inode was not in the event)"));
  else if (!sys) out.push(fact("owner", LIVE_ONLY));
  else {
    const o = sys.owners(k.inode);
    out.push(fact("owner", "missing" in o ? `not read (${o.missing})` : ownersText(o, k.inode)));
  }
  return out;
}

const AF_INET6 = 10;
const NOT_GIVEN = "kfree_skb gives no socket on this kernel (its rx_sk came with Linux 6.11)";

/** Without the socket in the event (before 6.11): a UDP socket found by the packet's destination in the
 * namespace's /proc/net/udp after the drop, what it held then, and its owners; its buffer is not known. */
function udpSocketAfter(p: DropFactsInfo, pkt: Packet, sys: SystemLookups | undefined): Fact[] {
  const l4 = pkt.l4;
  const none = [fact("socket", `not read (${NOT_GIVEN})`)];
  if (!pkt.ip || l4?.kind !== "udp") return none;
  if (!sys) return [fact("socket", `not read (${NOT_GIVEN}; no look-up in the system here)`)];
  const u = sys.udpSocket(p.netns, pkt.ip.dst, l4.dport);
  if ("missing" in u) return [fact("socket", `not read (${NOT_GIVEN}; ${u.missing})`)];
  const o = sys.owners(u.inode);
  return [
    fact("socket", `${u.local} (found by the destination in /proc/net/udp, ${AFTER})`),
    fact("rcvbuf", `not read (${NOT_GIVEN})`),
    fact("queued", `${u.queued} bytes, ${u.drops} drops so far (${AFTER})`),
    fact("owner", "missing" in o ? `not read (${o.missing})` : ownersText(o, u.inode)),
  ];
}

function sockAddress(k: DropSock): string {
  return k.family === AF_INET6
    ? `[${ipv6Text(k.address, 0)}]:${k.port}`
    : `${ipv4Text(k.address, 0)}:${k.port}`;
}

function ownersText(o: Owner[], inode: number): string {
  if (o.length === 0) return `no process holds socket:[${inode}] open now (${AFTER})`;
  return `${o.map((w) => `pid ${w.pid} (${w.comm})`).join(", ")} (${AFTER})`;
}

/** The device's XDP program after the drop: its name, id and mode. */
function xdpProgram(p: DropFactsInfo, sys: SystemLookups | undefined): string {
  if (!sys) return LIVE_ONLY;
  const x = sys.xdp(p.netns, p.name);
  if ("missing" in x) return `not read (${x.missing})`;
  if ("none" in x) return `none attached now (${AFTER})`;
  return `${x.name || "unnamed"} id ${x.id} (${x.mode}; ${AFTER})`;
}

function neighbourText(n: Neighbour): string {
  const state = n.state.length === 0 ? "no entry" : n.state.join(" ");
  return `${n.address} dev ${n.dev} ${state} (${AFTER})`;
}

/** How many multicast (broadcast) solicitations resolve an entry before it fails (its app_solicit aside). */
const probes =
  (fam: string, dev: string) =>
  (v: string): string =>
    `up to ${v} ${fam === "ipv6" ? "neighbour solicitations" : "ARP requests"} (net.${fam}.neigh.${dev}.mcast_solicit=${v}, ${AFTER})`;

/** The device's tc filters on `hook` after the drop: each bpf program's name and id, other filters' kinds. */
function tcPrograms(p: DropFactsInfo, hook: "ingress" | "egress", sys: SystemLookups | undefined): string {
  if (!sys) return LIVE_ONLY;
  const fs = sys.filters(p.netns, p.name, hook);
  if ("missing" in fs) return `not read (${fs.missing})`;
  if (fs.length === 0) return `none on ${hook} now (tcx programs are not shown by tc; ${AFTER})`;
  const each = fs.map((f) =>
    f.prog
      ? `${f.prog.name || "unnamed"} id ${f.prog.id} (${f.kind}${f.directAction ? " direct-action" : ""})`
      : `a ${f.kind} filter`,
  );
  return `${each.join(", ")} (${AFTER})`;
}

/** The device's root qdisc, its kind and limit, as `tc` shows it after the drop. */
function qdisc(p: DropFactsInfo, sys: SystemLookups | undefined): string {
  if (!sys) return LIVE_ONLY;
  const q = sys.qdisc(p.netns, p.name);
  if ("missing" in q) return `not read (${q.missing})`;
  return `${q.kind}${q.limit === undefined ? "" : ` limit ${q.limit}`} (root; ${AFTER})`;
}

const RP_MODES: Record<string, string> = { "0": "off", "1": "strict", "2": "loose" };

/** The device's reverse-path mode in force: the higher of its own and `all`'s (ip-sysctl.rst). */
function rpFilter(p: DropFactsInfo, sys: SystemLookups | undefined): string {
  if (!sys) return LIVE_ONLY;
  const dev = sys.sysctl(p.netns, `net/ipv4/conf/${p.name}/rp_filter`);
  const all = sys.sysctl(p.netns, "net/ipv4/conf/all/rp_filter");
  if ("missing" in dev) return `not read (${dev.missing})`;
  if ("missing" in all) return `not read (${all.missing})`;
  const mode = String(Math.max(Number(dev.value), Number(all.value)));
  return `${RP_MODES[mode] ?? mode} (net.ipv4.conf.${p.name}.rp_filter=${dev.value}, all=${all.value}, ${AFTER})`;
}

/** The device's IPv4 forwarding (what ip_error checks: IN_DEV_FORWARD). */
const forwarding =
  (dev: string) =>
  (v: string): string =>
    v === "0"
      ? `off (net.ipv4.conf.${dev}.forwarding=0, as net.ipv4.ip_forward=0 sets; ${AFTER})`
      : `on (net.ipv4.conf.${dev}.forwarding=${v}; ${AFTER})`;

/** Whether drops of this cause have facts (the others' events skip the work). */
export const HAS_FACTS: ReadonlySet<string> = new Set([
  "NO_SOCKET",
  "IP_RPFILTER",
  "NO_ROUTE",
  "IP_OUTNOROUTES",
  "TTL_EXPIRED",
  "MTU_EXCEEDED",
  "QDISC_DROP",
  "QDISC_OVERLIMIT",
  "QDISC_CONGESTED",
  "TC_INGRESS",
  "TC_EGRESS",
  "NEIGH_FAILED",
  "NEIGH_QUEUEFULL",
  "SOCKET_RCVBUFF",
  "XDP",
]);
