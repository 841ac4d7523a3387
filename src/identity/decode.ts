// Decodes a packet's headers from its bytes, as far as the bytes go: an Ethernet frame or a network packet
// (the record's link field says which), through VLAN tags, IPv4/IPv6 (and IPv6's extension headers), the
// transport header, and into tunnels (VXLAN, Geneve, GRE, IPIP/SIT) whose inner packet follows. It never
// throws: bytes that end inside a header, or a header that makes no sense, stop the decoding and say so.
import { LINK_NETWORK } from "../record/record.js";
import { ipv4Text, ipv6Text, macText } from "./addresses.js";
import type { Fragment, Header, Icmp, Ipv4, Ipv6, PacketIdentity, Tcp, Udp } from "./headers.js";
import {
  ETH_8021AD,
  ETH_8021Q,
  ETH_ARP,
  ETH_IPV4,
  ETH_IPV6,
  ETH_TEB,
  ICMP_ECHO,
  ICMP_ECHO_REPLY,
  ICMP_REDIRECT,
  ICMP_UNREACH,
  ICMP_UNREACH_NEEDFRAG,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG,
  IPPROTO_GRE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  IPV6_AH,
  IPV6_DSTOPTS,
  IPV6_FRAGMENT,
  IPV6_HOPOPTS,
  IPV6_ROUTING,
  UDP_GENEVE,
  UDP_VXLAN,
} from "./names.js";

/** Tunnels inside tunnels deeper than this stop the decoding (crafted bytes could nest hundreds). */
export const MAX_NESTING = 8;
/** IPv6 extension headers walked before giving up on finding the upper-layer protocol. */
const MAX_EXTENSIONS = 16;
/** ICMP errors whose message quotes the packet that caused them (RFC 792, RFC 4443). */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);
const ICMPV6_ERRORS = new Set([1, 2, 3, 4]);
/** ICMP queries and replies that carry an identifier and a sequence number: echo, timestamp, information,
 * address mask, extended echo. */
const ICMP_QUERIES = new Set([ICMP_ECHO_REPLY, ICMP_ECHO, 13, 14, 15, 16, 17, 18, 42, 43]);

class Decoder {
  readonly headers: Header[] = [];
  stop: PacketIdentity["stop"];

  constructor(readonly b: Uint8Array) {}

  private be16(at: number): number {
    return (this.b[at]! << 8) | this.b[at + 1]!;
  }

  private be32(at: number): number {
    return ((this.b[at]! << 24) | (this.b[at + 1]! << 16) | (this.b[at + 2]! << 8) | this.b[at + 3]!) >>> 0;
  }

  /** Whether `n` bytes are there at `at`; if not, records that the bytes ended in `header`. */
  private has(at: number, n: number, header: string): boolean {
    if (at + n <= this.b.length) return true;
    this.stop = { header, why: "truncated" };
    return false;
  }

  private bad(header: string, detail: string): void {
    this.stop = { header, why: "malformed", detail };
  }

  private nested(depth: number): boolean {
    if (depth <= MAX_NESTING) return true;
    this.bad("tunnel", `nested deeper than ${MAX_NESTING}`);
    return false;
  }

  network(at: number, depth: number): void {
    if (!this.has(at, 1, "ip")) return;
    const version = this.b[at]! >> 4;
    if (version === 4) this.ipv4(at, depth);
    else if (version === 6) this.ipv6(at, depth);
    else this.bad("ip", `version ${version}`);
  }

  ethernet(at: number, depth: number): void {
    if (!this.nested(depth) || !this.has(at, 14, "ethernet")) return;
    const eth = {
      kind: "ethernet" as const,
      dst: macText(this.b, at),
      src: macText(this.b, at + 6),
      type: 0,
    };
    this.headers.push(eth);
    let type = this.be16(at + 12);
    at += 14;
    while (type === ETH_8021Q || type === ETH_8021AD) {
      if (!this.has(at, 4, "vlan")) return;
      const tci = this.be16(at);
      const next = this.be16(at + 2);
      this.headers.push({ kind: "vlan", tpid: type, id: tci & 0xfff, pcp: tci >> 13, type: next });
      type = next;
      at += 4;
    }
    eth.type = type;
    this.ethertype(type, at, depth);
  }

  private ethertype(type: number, at: number, depth: number): void {
    if (type === ETH_IPV4) this.ipv4(at, depth);
    else if (type === ETH_IPV6) this.ipv6(at, depth);
    else if (type === ETH_ARP) this.arp(at);
    else if (type === ETH_TEB) this.ethernet(at, depth + 1);
    else this.headers.push({ kind: "other", layer: "ethertype", number: type, length: this.b.length - at });
  }

  private arp(at: number): void {
    if (!this.has(at, 8, "arp")) return;
    const htype = this.be16(at);
    const ptype = this.be16(at + 2);
    const arp: Header = { kind: "arp", op: this.be16(at + 6) };
    this.headers.push(arp);
    if (htype !== 1 || ptype !== ETH_IPV4 || this.b[at + 4] !== 6 || this.b[at + 5] !== 4) return;
    if (!this.has(at, 28, "arp")) return;
    arp.senderMac = macText(this.b, at + 8);
    arp.senderIp = ipv4Text(this.b, at + 14);
    arp.targetMac = macText(this.b, at + 18);
    arp.targetIp = ipv4Text(this.b, at + 24);
  }

  ipv4(at: number, depth: number): void {
    if (!this.nested(depth) || !this.has(at, 20, "ipv4")) return;
    const version = this.b[at]! >> 4;
    const ihl = (this.b[at]! & 15) * 4;
    if (version !== 4) {
      this.bad("ipv4", `version ${version}`);
      return;
    }
    if (ihl < 20) {
      this.bad("ipv4", `header length ${ihl}`);
      return;
    }
    const frag = this.be16(at + 6);
    const ip: Ipv4 = {
      kind: "ipv4",
      src: ipv4Text(this.b, at + 12),
      dst: ipv4Text(this.b, at + 16),
      protocol: this.b[at + 9]!,
      ttl: this.b[at + 8]!,
      length: this.be16(at + 2),
      headerLength: ihl,
      id: this.be16(at + 4),
      tos: this.b[at + 1]!,
    };
    const fragment: Fragment = { id: ip.id, offset: (frag & 0x1fff) * 8, more: (frag & 0x2000) !== 0 };
    if (fragment.offset || fragment.more) ip.fragment = fragment;
    this.headers.push(ip);
    if (!this.has(at, ihl, "ipv4 options")) return;
    // A GSO packet's total length can be 0 (BIG TCP) or stale: then the payload's length is not known.
    const payload = ip.length >= ihl ? ip.length - ihl : undefined;
    if (fragment.offset) return; // only the first fragment has the transport header
    this.transport(ip.protocol, at + ihl, payload, depth);
  }

  ipv6(at: number, depth: number): void {
    if (!this.nested(depth) || !this.has(at, 40, "ipv6")) return;
    const version = this.b[at]! >> 4;
    if (version !== 6) {
      this.bad("ipv6", `version ${version}`);
      return;
    }
    const plen = this.be16(at + 4);
    const ip: Ipv6 = {
      kind: "ipv6",
      src: ipv6Text(this.b, at + 8),
      dst: ipv6Text(this.b, at + 24),
      protocol: this.b[at + 6]!,
      hopLimit: this.b[at + 7]!,
      length: 40 + plen,
      flowLabel: this.be32(at) & 0xfffff,
    };
    this.headers.push(ip);
    let p = at + 40;
    for (let n = 0; n < MAX_EXTENSIONS; n++) {
      const next = ip.protocol;
      if (next === IPV6_FRAGMENT) {
        if (!this.has(p, 8, "ipv6 fragment header")) return;
        const fo = this.be16(p + 2);
        ip.fragment = { id: this.be32(p + 4), offset: fo & 0xfff8, more: (fo & 1) !== 0 };
        ip.protocol = this.b[p]!;
        p += 8;
      } else if (
        next === IPV6_HOPOPTS ||
        next === IPV6_ROUTING ||
        next === IPV6_DSTOPTS ||
        next === IPV6_AH
      ) {
        if (!this.has(p, 2, "ipv6 extension header")) return;
        const len = next === IPV6_AH ? (this.b[p + 1]! + 2) * 4 : (this.b[p + 1]! + 1) * 8;
        if (!this.has(p, len, "ipv6 extension header")) return;
        ip.protocol = this.b[p]!;
        p += len;
      } else break;
    }
    // A payload length of 0 is a jumbogram or a BIG TCP packet: its length is elsewhere.
    const payload = plen > 0 && plen >= p - at - 40 ? plen - (p - at - 40) : undefined;
    if (ip.fragment?.offset) return;
    this.transport(ip.protocol, p, payload, depth);
  }

  /** The header after IP: `payload` is its length from the IP header, when known. */
  private transport(protocol: number, at: number, payload: number | undefined, depth: number): void {
    switch (protocol) {
      case IPPROTO_TCP:
        this.tcp(at, payload);
        return;
      case IPPROTO_UDP:
      case IPPROTO_UDPLITE:
      case IPPROTO_SCTP:
        this.udp(protocol, at, payload, depth);
        return;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        this.icmp(protocol === IPPROTO_ICMPV6, at, payload, depth);
        return;
      case IPPROTO_GRE:
        this.gre(at, depth);
        return;
      case IPPROTO_IPIP:
        this.ipv4(at, depth + 1);
        return;
      case IPPROTO_IPV6:
        this.ipv6(at, depth + 1);
        return;
      default:
        this.headers.push({
          kind: "other",
          layer: "ip",
          number: protocol,
          length: payload ?? Math.max(0, this.b.length - at),
        });
    }
  }

  private tcp(at: number, payload: number | undefined): void {
    if (!this.has(at, 4, "tcp")) return;
    const tcp: Tcp = { kind: "tcp", sport: this.be16(at), dport: this.be16(at + 2) };
    this.headers.push(tcp);
    if (!this.has(at, 20, "tcp")) return;
    const doff = (this.b[at + 12]! >> 4) * 4;
    tcp.seq = this.be32(at + 4);
    tcp.ack = this.be32(at + 8);
    tcp.flags = this.b[at + 13]!;
    tcp.window = this.be16(at + 14);
    if (doff < 20) {
      this.bad("tcp", `header length ${doff}`);
      return;
    }
    if (payload !== undefined && payload >= doff) tcp.payload = payload - doff;
  }

  private udp(protocol: number, at: number, payload: number | undefined, depth: number): void {
    const kind = protocol === IPPROTO_UDP ? "udp" : protocol === IPPROTO_SCTP ? "sctp" : "udplite";
    if (!this.has(at, 4, kind)) return;
    const udp: Udp = { kind, sport: this.be16(at), dport: this.be16(at + 2) };
    this.headers.push(udp);
    if (kind === "sctp") return;
    if (!this.has(at, 8, kind)) return;
    // UDP-Lite's length field is its checksum coverage, so its payload comes from the IP header.
    const len = this.be16(at + 4);
    if (kind === "udp" && len >= 8) udp.payload = len - 8;
    else if (kind === "udplite" && payload !== undefined && payload >= 8) udp.payload = payload - 8;
    if (kind !== "udp") return;
    const port = (p: number) => udp.dport === p || udp.sport === p;
    if (port(UDP_VXLAN)) this.vxlan(at + 8, depth + 1);
    else if (port(UDP_GENEVE)) this.geneve(at + 8, depth + 1);
  }

  private icmp(v6: boolean, at: number, payload: number | undefined, depth: number): void {
    const kind = v6 ? "icmp6" : "icmp";
    if (!this.has(at, 4, kind)) return;
    const type = this.b[at]!;
    const code = this.b[at + 1]!;
    const icmp: Icmp = { kind, type, code };
    if (payload !== undefined) icmp.length = payload;
    this.headers.push(icmp);
    const echo = v6 ? type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY : ICMP_QUERIES.has(type);
    const neighbor = v6 && (type === ICMPV6_NEIGHBOR_SOLICIT || type === ICMPV6_NEIGHBOR_ADVERT);
    const error = v6 ? ICMPV6_ERRORS.has(type) : ICMP_ERRORS.has(type);
    if (!echo && !neighbor && !error) return;
    if (!this.has(at, 8, kind)) return;
    if (echo) {
      icmp.id = this.be16(at + 4);
      icmp.seq = this.be16(at + 6);
      return;
    }
    if (neighbor) {
      if (this.has(at, 24, kind)) icmp.target = ipv6Text(this.b, at + 8);
      return;
    }
    if (!v6 && type === ICMP_UNREACH && code === ICMP_UNREACH_NEEDFRAG) icmp.mtu = this.be16(at + 6);
    if (v6 && type === ICMPV6_PACKET_TOO_BIG) icmp.mtu = this.be32(at + 4);
    if (!v6 && type === ICMP_REDIRECT) icmp.target = ipv4Text(this.b, at + 4);
    // The quoted packet is cut by design (an IP header and 8 bytes at least): decoded on its own.
    if (at + 8 < this.b.length && this.nested(depth + 1)) {
      const q = new Decoder(this.b.subarray(at + 8));
      if (v6) q.ipv6(0, depth + 1);
      else q.ipv4(0, depth + 1);
      icmp.quoted = q.identity();
    }
  }

  private gre(at: number, depth: number): void {
    if (!this.has(at, 4, "gre")) return;
    const flags = this.be16(at);
    const version = flags & 7;
    const gre: Header = { kind: "gre", version, protocol: this.be16(at + 2) };
    this.headers.push(gre);
    let off = 4;
    if (flags & 0xc000) off += 4; // checksum and offset, there when either is (RFC 1701)
    if (flags & 0x2000) {
      if (!this.has(at, off + 4, "gre")) return;
      gre.key = this.be32(at + off);
      off += 4;
    }
    if (flags & 0x1000) off += 4; // sequence number
    if (version === 1 && flags & 0x0080) off += 4; // PPTP's acknowledgment number
    // PPTP carries PPP; source routes (RFC 1701's R bit) put a list of unknown length before the packet.
    if (version !== 0 || flags & 0x4000) return;
    if (!this.has(at, off, "gre")) return;
    if (!this.nested(depth + 1)) return;
    this.ethertype(gre.protocol, at + off, depth + 1);
  }

  private vxlan(at: number, depth: number): void {
    if (!this.nested(depth) || !this.has(at, 8, "vxlan")) return;
    this.headers.push({ kind: "vxlan", vni: (this.be32(at + 4) >>> 8) & 0xffffff });
    this.ethernet(at + 8, depth);
  }

  private geneve(at: number, depth: number): void {
    if (!this.nested(depth) || !this.has(at, 8, "geneve")) return;
    const options = (this.b[at]! & 0x3f) * 4;
    const protocol = this.be16(at + 2);
    this.headers.push({ kind: "geneve", vni: (this.be32(at + 4) >>> 8) & 0xffffff, protocol });
    if (!this.has(at, 8 + options, "geneve options")) return;
    this.ethertype(protocol, at + 8 + options, depth);
  }

  identity(): PacketIdentity {
    const id: PacketIdentity = { headers: this.headers, captured: this.b.length };
    if (this.stop) id.stop = this.stop;
    return id;
  }
}

/** The headers of a packet whose bytes start at its link-layer header (LINK_ETHERNET: Ethernet) or at its
 * network header (LINK_NETWORK: IPv4 or IPv6, by the version nibble), as the record's link field says. */
export function decodePacket(bytes: Uint8Array, link: number): PacketIdentity {
  const d = new Decoder(bytes);
  if (link === LINK_NETWORK) d.network(0, 0);
  else d.ethernet(0, 0);
  return d.identity();
}
