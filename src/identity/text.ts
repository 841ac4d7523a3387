// A packet's identity as one line, in tcpdump's words where tcpdump has them (its default line, without
// the link layer): "IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12". A tunnel's inner packet follows its
// tunnel header after ": ". An ICMP error names the packet it quotes. Where the bytes ended early the line
// ends with tcpdump's "[|header]"; a header that makes no sense, with "[bad header: why]".
import type { Fragment, Header, Icmp, PacketIdentity } from "./headers.js";
import { TCP_ACK } from "./headers.js";
import {
  ARP_REPLY,
  ARP_REQUEST,
  ETH_8021AD,
  ETHERTYPES,
  ICMP_REDIRECT,
  ICMP_REDIRECT_CODES,
  ICMP_TIME_EXCEEDED,
  ICMP_TIME_EXCEEDED_CODES,
  ICMP_TYPES,
  ICMP_UNREACH,
  ICMP_UNREACH_CODES,
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_TIME_EXCEEDED,
  ICMPV6_TIME_EXCEEDED_CODES,
  ICMPV6_TYPES,
  ICMPV6_UNREACH,
  ICMPV6_UNREACH_CODES,
  IP_PROTOCOLS,
} from "./names.js";

/** tcpdump's flag letters, in its order (bit 0 first); ACK is ".". */
const TCP_FLAG_LETTERS = ["F", "S", "R", "P", ".", "U", "E", "W"];

export function tcpFlagsText(flags: number): string {
  let s = "";
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) s += TCP_FLAG_LETTERS[i];
  return s || "none";
}

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, "0")}`;

export function ethertypeText(type: number): string {
  if (type < 0x600) return "802.3";
  const name = ETHERTYPES[type];
  return name ? `ethertype ${name} (${hex(type, 4)})` : `ethertype ${hex(type, 4)}`;
}

/** The IP protocol's name in lower case ("udp"), or tcpdump's "ip-proto-N". */
export function protocolName(protocol: number): string {
  return IP_PROTOCOLS[protocol] ?? `ip-proto-${protocol}`;
}

const length = (n: number | undefined) => (n === undefined ? "" : `, length ${n}`);

function fragmentText(f: Fragment, size: number | undefined): string {
  return ` (frag ${f.id}:${size ?? "?"}@${f.offset}${f.more ? "+" : ""})`;
}

/** The short form of a quoted packet (in an ICMP error): "udp 10.0.0.1.40000 > 10.0.0.2.53". */
export function tupleText(id: PacketIdentity): string {
  const [ip, l4] = id.headers;
  if (!ip || (ip.kind !== "ipv4" && ip.kind !== "ipv6")) return "?";
  const ports = l4 && "sport" in l4 ? l4 : undefined;
  const src = ports ? `${ip.src}.${ports.sport}` : ip.src;
  const dst = ports ? `${ip.dst}.${ports.dport}` : ip.dst;
  return `${protocolName(ip.protocol)} ${src} > ${dst}`;
}

function icmpText(h: Icmp): string {
  const quoted = h.quoted ? ` for ${tupleText(h.quoted)}` : "";
  let what: string;
  if (h.kind === "icmp") {
    const codes =
      h.type === ICMP_UNREACH
        ? ICMP_UNREACH_CODES
        : h.type === ICMP_TIME_EXCEEDED
          ? ICMP_TIME_EXCEEDED_CODES
          : h.type === ICMP_REDIRECT
            ? ICMP_REDIRECT_CODES
            : undefined;
    const name = codes?.[h.code] ?? ICMP_TYPES[h.type];
    what = name ? `ICMP ${name}` : `ICMP type ${h.type}`;
    if (!name || (codes && codes[h.code] === undefined)) what += `, code ${h.code}`;
    if (h.mtu !== undefined) what += ` (mtu ${h.mtu})`;
    if (h.target !== undefined && h.type === ICMP_REDIRECT) what += ` to ${h.target}`;
  } else {
    const codes =
      h.type === ICMPV6_UNREACH
        ? ICMPV6_UNREACH_CODES
        : h.type === ICMPV6_TIME_EXCEEDED
          ? ICMPV6_TIME_EXCEEDED_CODES
          : undefined;
    const name = ICMPV6_TYPES[h.type];
    what = name ? `ICMP6, ${name}` : `ICMP6, type ${h.type}`;
    if (codes) what += `, ${codes[h.code] ?? `code ${h.code}`}`;
    else if (!name) what += `, code ${h.code}`;
    if (h.mtu !== undefined) what += `, mtu ${h.mtu}`;
    if (h.target !== undefined && h.type === ICMPV6_NEIGHBOR_SOLICIT) what += `, who has ${h.target}`;
    if (h.target !== undefined && h.type === ICMPV6_NEIGHBOR_ADVERT) what += `, tgt is ${h.target}`;
  }
  if (h.id !== undefined) what += `, id ${h.id}, seq ${h.seq}`;
  return `${what}${quoted}${length(h.length)}`;
}

/** The text of headers[i..] (the packet from that header on). */
function from(hs: Header[], i: number): string {
  const h = hs[i];
  if (!h) return "";
  const rest = () => {
    const r = from(hs, i + 1);
    return r ? `: ${r}` : "";
  };
  switch (h.kind) {
    case "ethernet":
      return hs[i + 1] ? from(hs, i + 1) : ethertypeText(h.type);
    case "vlan": {
      const tag = `vlan ${h.id}${h.pcp ? `, p ${h.pcp}` : ""}${h.tpid === ETH_8021AD ? " (802.1ad)" : ""}`;
      return `${tag}, ${from(hs, i + 1) || ethertypeText(h.type)}`;
    }
    case "arp": {
      if (h.op === ARP_REQUEST && h.targetIp) return `ARP, Request who-has ${h.targetIp} tell ${h.senderIp}`;
      if (h.op === ARP_REPLY && h.senderIp) return `ARP, Reply ${h.senderIp} is-at ${h.senderMac}`;
      return h.op === ARP_REQUEST ? "ARP, Request" : h.op === ARP_REPLY ? "ARP, Reply" : `ARP, op ${h.op}`;
    }
    case "ipv4":
    case "ipv6": {
      const next = hs[i + 1];
      const ports = next && "sport" in next ? next : undefined;
      const src = ports ? `${h.src}.${ports.sport}` : h.src;
      const dst = ports ? `${h.dst}.${ports.dport}` : h.dst;
      const head = `${h.kind === "ipv4" ? "IP" : "IP6"} ${src} > ${dst}: `;
      const size = h.kind === "ipv4" ? h.length - h.headerLength : h.length - 40;
      const frag = h.fragment ? fragmentText(h.fragment, size) : "";
      return `${head}${from(hs, i + 1) || protocolName(h.protocol)}${frag}`;
    }
    case "tcp": {
      if (h.flags === undefined) return "TCP";
      const ack = h.flags & TCP_ACK ? `, ack ${h.ack}` : "";
      return `Flags [${tcpFlagsText(h.flags)}], seq ${h.seq}${ack}, win ${h.window}${length(h.payload)}`;
    }
    case "udp":
    case "udplite": {
      const name = h.kind === "udp" ? "UDP" : "UDP-Lite";
      // A tunnel's header says more than UDP's length does.
      return hs[i + 1] ? from(hs, i + 1) : `${name}${length(h.payload)}`;
    }
    case "sctp":
      return "SCTP";
    case "icmp":
    case "icmp6":
      return icmpText(h);
    case "vxlan":
      return `VXLAN, vni ${h.vni}${rest()}`;
    case "geneve":
      return `Geneve, vni ${h.vni}${rest()}`;
    case "gre": {
      const name = h.version ? `GREv${h.version}` : "GRE";
      const key = h.key === undefined ? "" : `, key ${hex(h.key, 1)}`;
      const inner = rest();
      return `${name}${key}${inner || `, proto ${hex(h.protocol, 4)}`}`;
    }
    case "other":
      return h.layer === "ethertype"
        ? `${ethertypeText(h.number)}${length(h.length)}`
        : `${IP_PROTOCOLS[h.number]?.toUpperCase() ?? protocolName(h.number)}${length(h.length)}`;
  }
}

/** The identity's one line: the headers, then where decoding stopped, if it stopped early. */
export function identityText(id: PacketIdentity): string {
  const body = from(id.headers, 0);
  if (!id.stop) return body;
  const mark =
    id.stop.why === "truncated" ? `[|${id.stop.header}]` : `[bad ${id.stop.header}: ${id.stop.detail}]`;
  return body ? `${body} ${mark}` : mark;
}
