// The packet decoder on packets built byte by byte: what each header gives (structure) and its one line,
// which reads as tcpdump's default line for the same packet. test/host/identity-tshark.test.ts checks the
// same decoding against tshark on thousands of generated packets.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Header, PacketIdentity } from "../../src/identity/headers.js";
import { decodePacket, identityText } from "../../src/identity/index.js";
import { LINK_ETHERNET, LINK_NETWORK } from "../../src/record/record.js";
import { generate, rng } from "../filter/packets.js";
import {
  arp,
  type Bytes,
  be16,
  be32,
  ether,
  geneve,
  gre,
  icmp,
  ip6,
  ipv4,
  ipv6,
  payload,
  tcp,
  u8,
  udp,
  vxlan,
} from "./packets.js";

const eth = (b: Bytes) => decodePacket(u8(b), LINK_ETHERNET);
const net = (b: Bytes) => decodePacket(u8(b), LINK_NETWORK);
const line = (b: Bytes, link = LINK_ETHERNET) => identityText(decodePacket(u8(b), link));
const kinds = (id: PacketIdentity) => id.headers.map((h) => h.kind);
/** The header type whose kind may be K (Icmp's kind is "icmp" | "icmp6"). */
type Of<K extends Header["kind"]> = Header extends infer H
  ? H extends Header
    ? K extends H["kind"]
      ? H
      : never
    : never
  : never;
function header<K extends Header["kind"]>(id: PacketIdentity, kind: K, nth = 0): Of<K> {
  const h = id.headers.filter((x) => x.kind === kind)[nth];
  assert.ok(h, `no ${kind} header (${nth}) in ${kinds(id).join(",")}`);
  return h as Of<K>;
}

const A = "10.0.0.1";
const B = "10.0.0.2";
const udpPacket = (sport = 40000, dport = 53, n = 12) => ipv4(A, B, 17, udp(sport, dport, payload(n)));
const echo = (type: number, id: number, seq: number, n = 56) =>
  icmp(type, 0, [...be16(id), ...be16(seq)], payload(n));

test("UDP over Ethernet: addresses, ports, lengths; the same from the network header", () => {
  const frame = ether(0x0800, udpPacket());
  const id = eth(frame);
  assert.deepEqual(kinds(id), ["ethernet", "ipv4", "udp"]);
  assert.equal(id.stop, undefined);
  assert.equal(id.captured, 14 + 40);
  assert.deepEqual(header(id, "ethernet"), {
    kind: "ethernet",
    dst: "02:00:00:00:00:02",
    src: "02:00:00:00:00:01",
    type: 0x0800,
  });
  const ip = header(id, "ipv4");
  assert.deepEqual(
    [ip.src, ip.dst, ip.protocol, ip.ttl, ip.length, ip.headerLength, ip.id],
    [A, B, 17, 64, 40, 20, 0x1234],
  );
  assert.equal(ip.fragment, undefined);
  assert.deepEqual(header(id, "udp"), { kind: "udp", sport: 40000, dport: 53, payload: 12 });
  const text = "IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12";
  assert.equal(identityText(id), text);
  assert.equal(line(udpPacket(), LINK_NETWORK), text);
  assert.deepEqual(kinds(net(udpPacket())), ["ipv4", "udp"]);
});

test("TCP: tcpdump's flag letters, seq, ack (only with ACK), window, payload length", () => {
  const t = (flags: number, o: Parameters<typeof tcp>[3] = {}) =>
    line(ipv4(A, B, 6, tcp(40000, 80, flags, o)), LINK_NETWORK);
  const mss = [2, 4, 0x05, 0xb4];
  assert.equal(
    t(0x02, { seq: 1000, options: mss }),
    "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000, win 64240, length 0",
  );
  assert.equal(
    t(0x12, { seq: 5000, ack: 1001, win: 65160 }),
    "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], seq 5000, ack 1001, win 65160, length 0",
  );
  assert.equal(
    t(0x18, { seq: 1001, ack: 5001, win: 502, data: payload(5) }),
    "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 1001, ack 5001, win 502, length 5",
  );
  assert.match(t(0x11), /Flags \[F\.\]/);
  assert.match(t(0x04), /Flags \[R\], seq 0, win/);
  assert.match(t(0xc2), /Flags \[SEW\]/);
  assert.match(t(0x20), /Flags \[U\]/);
  assert.match(t(0), /Flags \[none\]/);
  const id = net(
    ipv4(A, B, 6, tcp(1, 2, 0x12, { seq: 0xfffffffe, ack: 0x80000000, win: 7, data: payload(3) })),
  );
  assert.deepEqual(header(id, "tcp"), {
    kind: "tcp",
    sport: 1,
    dport: 2,
    seq: 0xfffffffe,
    ack: 0x80000000,
    flags: 0x12,
    window: 7,
    payload: 3,
  });
});

test("a GSO packet whose IPv4 total length is 0 gives no payload length rather than a wrong one", () => {
  const id = net(ipv4(A, B, 6, tcp(1, 2, 0x10, { data: payload(100) }), { totalLength: 0 }));
  assert.equal(header(id, "tcp").payload, undefined);
  assert.equal(identityText(id), "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [.], seq 0, ack 0, win 64240");
});

test("ICMP: echo request and reply with id and sequence", () => {
  assert.equal(
    line(ipv4(A, B, 1, echo(8, 7, 1)), LINK_NETWORK),
    "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64",
  );
  const id = net(ipv4(B, A, 1, echo(0, 7, 1)));
  assert.deepEqual(header(id, "icmp"), { kind: "icmp", type: 0, code: 0, id: 7, seq: 1, length: 64 });
  assert.equal(identityText(id), "IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 7, seq 1, length 64");
});

test("ICMP errors are named and name the packet they quote", () => {
  const quoted = (b: Bytes) => b.slice(0, 28); // an IP header and 8 bytes, as RFC 792 quotes
  const unreach = ipv4(B, A, 1, icmp(3, 3, [0, 0, 0, 0], quoted(udpPacket())));
  const id = net(unreach);
  const h = header(id, "icmp");
  assert.deepEqual([h.type, h.code, h.length], [3, 3, 36]);
  assert.ok(h.quoted);
  assert.deepEqual(kinds(h.quoted), ["ipv4", "udp"]);
  assert.equal(header(h.quoted, "udp").dport, 53);
  assert.equal(
    identityText(id),
    "IP 10.0.0.2 > 10.0.0.1: ICMP port unreachable for udp 10.0.0.1.40000 > 10.0.0.2.53, length 36",
  );
  const tcpSyn = ipv4(A, B, 6, tcp(40000, 80, 2));
  const fragNeeded = net(ipv4(B, A, 1, icmp(3, 4, [0, 0, ...be16(1400)], quoted(tcpSyn))));
  assert.equal(header(fragNeeded, "icmp").mtu, 1400);
  assert.equal(
    identityText(fragNeeded),
    "IP 10.0.0.2 > 10.0.0.1: ICMP need to frag (mtu 1400) for tcp 10.0.0.1.40000 > 10.0.0.2.80, length 36",
  );
  const ttl = ipv4(
    "10.0.0.254",
    A,
    1,
    icmp(11, 0, [0, 0, 0, 0], quoted(ipv4(A, "8.8.8.8", 1, echo(8, 1, 2)))),
  );
  assert.equal(
    line(ttl, LINK_NETWORK),
    "IP 10.0.0.254 > 10.0.0.1: ICMP time exceeded in-transit for icmp 10.0.0.1 > 8.8.8.8, length 36",
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(3, 1, [0, 0, 0, 0], quoted(udpPacket()))), LINK_NETWORK),
    /ICMP host unreachable for udp/,
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(3, 13, [0, 0, 0, 0], quoted(udpPacket()))), LINK_NETWORK),
    /ICMP administratively prohibited for/,
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(5, 1, [10, 0, 0, 254], quoted(udpPacket()))), LINK_NETWORK),
    /ICMP redirect host to 10\.0\.0\.254 for udp/,
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(3, 99, [0, 0, 0, 0])), LINK_NETWORK),
    /ICMP unreachable, code 99, length 8$/,
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(200, 1, [0, 0, 0, 0])), LINK_NETWORK),
    /ICMP type 200, code 1, length 8$/,
  );
  assert.match(
    line(ipv4(B, A, 1, icmp(13, 0, [0, 0, 0, 0])), LINK_NETWORK),
    /ICMP timestamp request, id 0, seq 0, length 8$/,
  );
});

test("ARP: who-has and is-at", () => {
  assert.equal(
    line(ether(0x0806, arp(1, "02:00:00:00:00:01", A, "00:00:00:00:00:00", B))),
    "ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
  );
  const reply = eth(ether(0x0806, arp(2, "02:00:00:00:00:02", B, "02:00:00:00:00:01", A)));
  assert.equal(identityText(reply), "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:02");
  assert.deepEqual(header(reply, "arp"), {
    kind: "arp",
    op: 2,
    senderMac: "02:00:00:00:00:02",
    senderIp: B,
    targetMac: "02:00:00:00:00:01",
    targetIp: A,
  });
  const other = [...be16(6), ...be16(0x0800), 6, 4, ...be16(1), ...payload(20)]; // IEEE 802 hardware
  assert.equal(line(ether(0x0806, other)), "ARP, Request");
  assert.equal(line(ether(0x0806, arp(3, "02:00:00:00:00:01", A, "00:00:00:00:00:00", B))), "ARP, op 3");
});

test("VLAN tags: 802.1Q, and QinQ's outer 802.1ad tag, with priorities", () => {
  const one = eth(ether(0x0800, udpPacket(), [{ id: 100 }]));
  assert.deepEqual(kinds(one), ["ethernet", "vlan", "ipv4", "udp"]);
  assert.deepEqual(header(one, "vlan"), { kind: "vlan", tpid: 0x8100, id: 100, pcp: 0, type: 0x0800 });
  assert.equal(header(one, "ethernet").type, 0x0800, "the EtherType after the tags");
  assert.equal(identityText(one), "vlan 100, IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12");
  assert.equal(
    line(
      ether(0x0800, udpPacket(), [
        { tpid: 0x88a8, id: 200 },
        { id: 100, pcp: 3 },
      ]),
    ),
    "vlan 200 (802.1ad), vlan 100, p 3, IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12",
  );
  assert.equal(line(ether(0x0806, [], [{ id: 5 }])), "vlan 5, ethertype ARP (0x0806) [|arp]");
});

test("IPv6: addresses in short form, UDP, ICMPv6 echo, neighbor discovery, packet too big", () => {
  const S = "2001:db8::1";
  const D = "2001:db8::2";
  const u = net(ipv6(S, D, 17, udp(5000, 53, [])));
  assert.deepEqual(kinds(u), ["ipv6", "udp"]);
  const ip = header(u, "ipv6");
  assert.deepEqual([ip.src, ip.dst, ip.protocol, ip.hopLimit, ip.length], [S, D, 17, 64, 48]);
  assert.equal(identityText(u), "IP6 2001:db8::1.5000 > 2001:db8::2.53: UDP, length 0");
  assert.equal(header(net(ipv6(S, D, 17, udp(1, 2, []), { flow: 0xabcde })), "ipv6").flowLabel, 0xabcde);
  assert.equal(
    line(ether(0x86dd, ipv6(S, D, 58, echo(128, 3, 9, 8)))),
    "IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 3, seq 9, length 16",
  );
  assert.match(
    line(ipv6(D, S, 58, echo(129, 3, 9, 8)), LINK_NETWORK),
    /ICMP6, echo reply, id 3, seq 9, length 16$/,
  );
  const ns = net(
    ipv6("fe80::1", "ff02::1:ff00:2", 58, icmp(135, 0, [0, 0, 0, 0], [...ip6(D), 1, 1, 2, 0, 0, 0, 0, 1])),
  );
  assert.equal(header(ns, "icmp6").target, D);
  assert.equal(
    identityText(ns),
    "IP6 fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has 2001:db8::2, length 32",
  );
  assert.match(
    line(ipv6(D, "fe80::1", 58, icmp(136, 0, [0x60, 0, 0, 0], ip6(D))), LINK_NETWORK),
    /ICMP6, neighbor advertisement, tgt is 2001:db8::2, length 24$/,
  );
  const big = ipv6(S, D, 17, udp(5000, 53, payload(1400)));
  const ptb = net(ipv6("2001:db8::fe", S, 58, icmp(2, 0, be32(1280), big.slice(0, 48))));
  assert.equal(header(ptb, "icmp6").mtu, 1280);
  assert.equal(
    identityText(ptb),
    "IP6 2001:db8::fe > 2001:db8::1: ICMP6, packet too big, mtu 1280 for udp 2001:db8::1.5000 > 2001:db8::2.53, length 56",
  );
  assert.match(
    line(ipv6(D, S, 58, icmp(1, 4, [0, 0, 0, 0], big.slice(0, 48))), LINK_NETWORK),
    /ICMP6, destination unreachable, port unreachable for udp 2001:db8::1\.5000 > 2001:db8::2\.53, length 56$/,
  );
  assert.match(
    line(ipv6(D, S, 58, icmp(3, 0, [0, 0, 0, 0], big.slice(0, 48))), LINK_NETWORK),
    /ICMP6, time exceeded, hop limit exceeded in-transit for udp/,
  );
});

test("IPv6 extension headers are walked to the upper protocol; a fragment header is reported", () => {
  const S = "2001:db8::1";
  const D = "2001:db8::2";
  const hop = [44, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop, next: fragment; a router alert option
  const frag = [17, 0, ...be16(0 | 1), ...be32(0xabcd)]; // offset 0, more fragments
  const first = net(ipv6(S, D, 0, [...hop, ...frag, ...udp(5000, 53, payload(100))]));
  const ip = header(first, "ipv6");
  assert.equal(ip.protocol, 17);
  assert.deepEqual(ip.fragment, { id: 0xabcd, offset: 0, more: true });
  assert.equal(header(first, "udp").dport, 53);
  assert.equal(
    identityText(first),
    "IP6 2001:db8::1.5000 > 2001:db8::2.53: UDP, length 100 (frag 43981:124@0+)",
  );
  const later = net(ipv6(S, D, 44, [17, 0, ...be16(1232), ...be32(0xabcd), ...payload(16)]));
  assert.deepEqual(kinds(later), ["ipv6"], "a later fragment has no transport header");
  assert.equal(identityText(later), "IP6 2001:db8::1 > 2001:db8::2: udp (frag 43981:24@1232)");
  const dst = [6, 0, 1, 4, 0, 0, 0, 0]; // destination options, then TCP
  assert.match(
    line(ipv6(S, D, 60, [...dst, ...tcp(1, 2, 2)]), LINK_NETWORK),
    /^IP6 2001:db8::1\.1 > 2001:db8::2\.2: Flags \[S\]/,
  );
  const ah = [17, 4, 0, 0, ...be32(0x100), ...be32(1), ...payload(12)]; // AH: (4 + 2) * 4 = 24 bytes
  assert.match(
    line(ipv6(S, D, 51, [...ah, ...udp(7, 8, [])]), LINK_NETWORK),
    /\.7 > 2001:db8::2\.8: UDP, length 0$/,
  );
  assert.equal(
    line(ipv6(S, D, 0, [17, 4, 0, 0]), LINK_NETWORK),
    "IP6 2001:db8::1 > 2001:db8::2: hopopt [|ipv6 extension header]",
  );
});

test("IPv4 options and fragments", () => {
  const withOptions = net(ipv4(A, B, 17, udp(1, 2, payload(4)), { options: [0x94, 4, 0, 0] }));
  assert.equal(header(withOptions, "ipv4").headerLength, 24);
  assert.equal(identityText(withOptions), "IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 4");
  const first = ipv4(A, B, 17, [...be16(40000), ...be16(53), ...be16(3008), 0, 0, ...payload(1472)], {
    more: true,
  });
  const f = net(first);
  assert.deepEqual(header(f, "ipv4").fragment, { id: 0x1234, offset: 0, more: true });
  assert.equal(identityText(f), "IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 3000 (frag 4660:1480@0+)");
  const later = net(ipv4(A, B, 17, payload(100), { offset: 1480 }));
  assert.deepEqual(kinds(later), ["ipv4"]);
  assert.equal(identityText(later), "IP 10.0.0.1 > 10.0.0.2: udp (frag 4660:100@1480)");
});

test("VXLAN and Geneve on their UDP ports name the inner packet", () => {
  const inner = ether(0x0800, ipv4("192.168.0.1", "192.168.0.2", 1, echo(8, 1, 1)));
  const vx = eth(ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(54321, 4789, vxlan(42, inner)))));
  assert.deepEqual(kinds(vx), ["ethernet", "ipv4", "udp", "vxlan", "ethernet", "ipv4", "icmp"]);
  assert.equal(header(vx, "vxlan").vni, 42);
  assert.equal(header(vx, "ipv4", 1).src, "192.168.0.1");
  assert.equal(
    identityText(vx),
    "IP 10.1.0.1.54321 > 10.1.0.2.4789: VXLAN, vni 42: IP 192.168.0.1 > 192.168.0.2: ICMP echo request, id 1, seq 1, length 64",
  );
  const opts = [0x01, 0x02, 0x80, 0x01, ...be32(0xdeadbeef)]; // one 8-byte option
  const gv = eth(
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(40000, 6081, geneve(0xabcdef, 0x6558, inner, opts)))),
  );
  assert.deepEqual(header(gv, "geneve"), { kind: "geneve", vni: 0xabcdef, protocol: 0x6558 });
  assert.equal(
    identityText(gv),
    "IP 10.1.0.1.40000 > 10.1.0.2.6081: Geneve, vni 11259375: IP 192.168.0.1 > 192.168.0.2: ICMP echo request, id 1, seq 1, length 64",
  );
  // Geneve carrying IPv4 directly (protocol 0x0800, no inner Ethernet).
  assert.match(
    line(ipv4("10.1.0.1", "10.1.0.2", 17, udp(1, 6081, geneve(5, 0x0800, udpPacket()))), LINK_NETWORK),
    /Geneve, vni 5: IP 10\.0\.0\.1\.40000 > 10\.0\.0\.2\.53: UDP, length 12$/,
  );
  // The reply of a VXLAN flow comes from port 4789.
  assert.match(
    line(ipv4("10.1.0.2", "10.1.0.1", 17, udp(4789, 54321, vxlan(42, inner))), LINK_NETWORK),
    /VXLAN, vni 42: IP 192/,
  );
});

test("GRE (with key, checksum, sequence), gretap, IPIP and SIT name the inner packet", () => {
  const innerTcp = ipv4("192.168.0.1", "192.168.0.2", 6, tcp(1234, 80, 2, { seq: 9 }));
  const k = net(ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, innerTcp, { key: 0x2a })));
  assert.deepEqual(header(k, "gre"), { kind: "gre", version: 0, protocol: 0x0800, key: 0x2a });
  assert.equal(
    identityText(k),
    "IP 10.1.0.1 > 10.1.0.2: GRE, key 0x2a: IP 192.168.0.1.1234 > 192.168.0.2.80: Flags [S], seq 9, win 64240, length 0",
  );
  const all = net(
    ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, innerTcp, { key: 7, checksum: true, seq: 3 })),
  );
  assert.equal(header(all, "gre").key, 7);
  assert.equal(header(all, "tcp").dport, 80, "the inner header after checksum, key and sequence");
  const tap = net(
    ipv4(
      "10.1.0.1",
      "10.1.0.2",
      47,
      gre(0x6558, ether(0x0806, arp(1, "02:00:00:00:00:01", A, "00:00:00:00:00:00", B))),
    ),
  );
  assert.equal(identityText(tap), "IP 10.1.0.1 > 10.1.0.2: GRE: ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
  const v6 = line(
    ipv6("2001:db8::a", "2001:db8::b", 47, gre(0x86dd, ipv6("fd00::1", "fd00::2", 17, udp(1, 2, [])))),
    LINK_NETWORK,
  );
  assert.equal(v6, "IP6 2001:db8::a > 2001:db8::b: GRE: IP6 fd00::1.1 > fd00::2.2: UDP, length 0");
  assert.equal(
    line(ipv4(A, B, 47, gre(0x880b, payload(8))), LINK_NETWORK),
    "IP 10.0.0.1 > 10.0.0.2: GRE: ethertype 0x880b, length 8",
  );
  const pptp = [0x30, 0x01, ...be16(0x880b), ...be16(8), ...be16(1), ...be32(5), ...payload(8)];
  assert.equal(
    line(ipv4(A, B, 47, pptp), LINK_NETWORK),
    "IP 10.0.0.1 > 10.0.0.2: GREv1, key 0x80001, proto 0x880b",
  );
  assert.equal(
    line(ipv4("10.1.0.1", "10.1.0.2", 4, udpPacket()), LINK_NETWORK),
    "IP 10.1.0.1 > 10.1.0.2: IP 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 12",
  );
  assert.equal(
    line(ipv4("10.1.0.1", "10.1.0.2", 41, ipv6("fd00::1", "fd00::2", 58, echo(128, 1, 1, 0))), LINK_NETWORK),
    "IP 10.1.0.1 > 10.1.0.2: IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 1, length 8",
  );
});

test("other protocols by name or number, with their length", () => {
  assert.equal(
    line(ipv4(A, "224.0.0.5", 89, payload(44)), LINK_NETWORK),
    "IP 10.0.0.1 > 224.0.0.5: OSPF, length 44",
  );
  assert.equal(
    line(ipv4(A, B, 200, payload(4)), LINK_NETWORK),
    "IP 10.0.0.1 > 10.0.0.2: ip-proto-200, length 4",
  );
  assert.equal(line(ipv4(A, B, 50, payload(40)), LINK_NETWORK), "IP 10.0.0.1 > 10.0.0.2: ESP, length 40");
  assert.equal(
    line(ipv4(A, B, 132, [...be16(5000), ...be16(36412), ...payload(8)]), LINK_NETWORK),
    "IP 10.0.0.1.5000 > 10.0.0.2.36412: SCTP",
  );
  assert.equal(
    line(ipv4(A, B, 136, [...be16(1), ...be16(2), ...be16(8), 0, 0, ...payload(6)]), LINK_NETWORK),
    "IP 10.0.0.1.1 > 10.0.0.2.2: UDP-Lite, length 6",
  );
  assert.equal(line(ether(0x88cc, payload(20))), "ethertype LLDP (0x88cc), length 20");
  assert.equal(line(ether(0x1234, payload(3))), "ethertype 0x1234, length 3");
  assert.equal(line(ether(0x0026, payload(38))), "802.3, length 38");
  const o = eth(ether(0x88cc, payload(20)));
  assert.deepEqual(o.headers[1], { kind: "other", layer: "ethertype", number: 0x88cc, length: 20 });
});

test("bytes that end inside a header decode as far as they go and say where they ended", () => {
  assert.equal(line([]), "[|ethernet]");
  assert.deepEqual(eth([]), { headers: [], captured: 0, stop: { header: "ethernet", why: "truncated" } });
  assert.equal(line([], LINK_NETWORK), "[|ip]");
  const frame = ether(0x0800, ipv4(A, B, 6, tcp(40000, 80, 2, { seq: 1 })));
  assert.equal(line(frame.slice(0, 20)), "ethertype IPv4 (0x0800) [|ipv4]");
  const cut = eth(frame.slice(0, 14 + 20 + 6));
  assert.deepEqual(cut.stop, { header: "tcp", why: "truncated" });
  assert.deepEqual(
    header(cut, "tcp"),
    { kind: "tcp", sport: 40000, dport: 80 },
    "the ports, read before the cut",
  );
  assert.equal(identityText(cut), "IP 10.0.0.1.40000 > 10.0.0.2.80: TCP [|tcp]");
  assert.equal(line(frame.slice(0, 14 + 20 + 2)), "IP 10.0.0.1 > 10.0.0.2: tcp [|tcp]");
  const inner = ether(0x0800, udpPacket());
  const vx = ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(54321, 4789, vxlan(42, inner))));
  assert.equal(
    line(vx.slice(0, 14 + 20 + 8 + 8 + 14 + 10)),
    "IP 10.1.0.1.54321 > 10.1.0.2.4789: VXLAN, vni 42: ethertype IPv4 (0x0800) [|ipv4]",
  );
  const opts = ipv4(A, B, 17, udp(1, 2, []), { options: [1, 1, 1, 1, 1, 1, 1, 1] });
  assert.equal(line(opts.slice(0, 24), LINK_NETWORK), "IP 10.0.0.1 > 10.0.0.2: udp [|ipv4 options]");
});

test("headers that make no sense stop the decoding with the reason", () => {
  assert.equal(line([0x50, ...payload(30)], LINK_NETWORK), "[bad ip: version 5]");
  const bad = udpPacket();
  bad[0] = 0x43;
  assert.equal(line(ether(0x0800, bad)), "ethertype IPv4 (0x0800) [bad ipv4: header length 12]");
  const v = udpPacket();
  v[0] = 0x65;
  assert.equal(line(ether(0x0800, v)), "ethertype IPv4 (0x0800) [bad ipv4: version 6]");
  assert.equal(
    line(ether(0x86dd, udpPacket().concat(payload(20)))),
    "ethertype IPv6 (0x86dd) [bad ipv6: version 4]",
  );
  const t = ipv4(A, B, 6, tcp(1, 2, 2));
  t[20 + 12] = 0x20; // data offset 8
  assert.equal(
    line(t, LINK_NETWORK),
    "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [S], seq 0, win 64240 [bad tcp: header length 8]",
  );
});

test("tunnels nested past the limit stop instead of recursing without end", () => {
  let p = udpPacket();
  for (let i = 0; i < 40; i++) p = ipv4(A, B, 4, p);
  const id = net(p);
  assert.deepEqual(id.stop, { header: "tunnel", why: "malformed", detail: "nested deeper than 8" });
  assert.equal(id.headers.length, 9);
  let g = udpPacket();
  for (let i = 0; i < 40; i++) g = ipv4(A, B, 47, gre(0x0800, g));
  assert.equal(net(g).stop?.detail, "nested deeper than 8");
});

test("no input makes the decoder throw: every prefix of varied packets, generated frames, random bytes", () => {
  const built: Bytes[] = [
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(1, 4789, vxlan(1, ether(0x0800, udpPacket()))))),
    ether(
      0x0800,
      ipv4(
        A,
        B,
        17,
        udp(1, 6081, geneve(1, 0x6558, ether(0x86dd, ipv6("::1", "::2", 6, tcp(1, 2, 2))), [1, 2, 3, 4])),
      ),
    ),
    ether(
      0x0800,
      ipv4(
        A,
        B,
        47,
        gre(0x6558, ether(0x0806, arp(1, "02:00:00:00:00:01", A, "00:00:00:00:00:00", B)), {
          key: 1,
          checksum: true,
          seq: 2,
        }),
      ),
      [{ id: 3 }],
    ),
    ether(
      0x86dd,
      ipv6("::1", "::2", 0, [
        58,
        0,
        1,
        4,
        0,
        0,
        0,
        0,
        ...icmp(1, 4, [0, 0, 0, 0], ipv6("::2", "::1", 17, udp(1, 2, []))),
      ]),
    ),
    ether(0x0800, ipv4(B, A, 1, icmp(3, 4, [0, 0, 5, 0], ipv4(A, B, 4, ipv4(A, B, 6, tcp(1, 2, 2)))))),
  ];
  let n = 0;
  for (const p of built)
    for (let len = 0; len <= p.length; len++) {
      for (const link of [LINK_ETHERNET, LINK_NETWORK]) {
        const id = decodePacket(u8(p.slice(0, len)), link);
        assert.equal(typeof identityText(id), "string");
        n++;
      }
      // A cut frame says where it ended unless it ended exactly between headers.
      if (len < p.length && len > 0 && len < 14) assert.equal(eth(p.slice(0, len)).stop?.why, "truncated");
    }
  for (const p of generate(3000, 19)) {
    identityText(decodePacket(p.ether, LINK_ETHERNET));
    if (p.raw) identityText(decodePacket(p.raw, LINK_NETWORK));
    n++;
  }
  const r = rng(7);
  for (let i = 0; i < 3000; i++) {
    const b = u8(Array.from({ length: Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
    // Random bytes that look like IPv4/IPv6 often, to reach the deeper decoders.
    if (b.length && r() < 0.5) b[0] = r() < 0.5 ? 0x45 : 0x60;
    identityText(decodePacket(b, r() < 0.5 ? LINK_NETWORK : LINK_ETHERNET));
    n++;
  }
  assert.ok(n > 6000, `${n} inputs`);
});
