// Packets built byte by byte for the identity tests, each layer by its RFC's layout: Ethernet, VLAN tags,
// ARP, IPv4 (with options and fragments), IPv6 (with extension headers), TCP, UDP, ICMP, ICMPv6, GRE,
// VXLAN, Geneve. Checksums are left zero except IPv4's header checksum (nothing here checks them).

export type Bytes = number[];

export const be16 = (v: number): Bytes => [(v >> 8) & 0xff, v & 0xff];
export const be32 = (v: number): Bytes => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export function mac(s: string): Bytes {
  return s.split(":").map((h) => Number.parseInt(h, 16));
}

export function ip4(s: string): Bytes {
  return s.split(".").map(Number);
}

export function ip6(s: string): Bytes {
  const [head, tail] = s.split("::") as [string, string | undefined];
  const words = (t: string) => (t ? t.split(":").map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t].flatMap(be16);
}

function checksum(b: Bytes): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const payload = (n: number): Bytes => Array.from({ length: n }, (_, i) => 0x61 + (i % 26));

export function ether(
  type: number,
  body: Bytes,
  tags: { tpid?: number; id: number; pcp?: number }[] = [],
): Bytes {
  const t = tags.flatMap((g) => [...be16(g.tpid ?? 0x8100), ...be16(((g.pcp ?? 0) << 13) | g.id)]);
  return [...mac("02:00:00:00:00:02"), ...mac("02:00:00:00:00:01"), ...t, ...be16(type), ...body];
}

export interface Ipv4Opts {
  id?: number;
  ttl?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  offset?: number;
  more?: boolean;
  options?: Bytes;
  /** The total length field, when it should lie. */
  totalLength?: number;
}

export function ipv4(src: string, dst: string, protocol: number, body: Bytes, o: Ipv4Opts = {}): Bytes {
  const opts = o.options ?? [];
  const ihl = 20 + opts.length;
  const frag = ((o.more ? 0x2000 : 0) | ((o.offset ?? 0) >> 3)) & 0xffff;
  const h = [
    0x40 | (ihl >> 2),
    0,
    ...be16(o.totalLength ?? ihl + body.length),
    ...be16(o.id ?? 0x1234),
    ...be16(frag),
    o.ttl ?? 64,
    protocol,
    0,
    0,
    ...ip4(src),
    ...ip4(dst),
    ...opts,
  ];
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return [...h, ...body];
}

/** `body` may start with extension headers, the first one's type in `next`. */
export function ipv6(
  src: string,
  dst: string,
  next: number,
  body: Bytes,
  o: { hopLimit?: number; flow?: number } = {},
): Bytes {
  const flow = o.flow ?? 0;
  return [
    0x60,
    (flow >> 16) & 0x0f,
    (flow >> 8) & 0xff,
    flow & 0xff,
    ...be16(body.length),
    next,
    o.hopLimit ?? 64,
    ...ip6(src),
    ...ip6(dst),
    ...body,
  ];
}

export function tcp(
  sport: number,
  dport: number,
  flags: number,
  o: { seq?: number; ack?: number; win?: number; options?: Bytes; data?: Bytes } = {},
): Bytes {
  const opts = o.options ?? [];
  return [
    ...be16(sport),
    ...be16(dport),
    ...be32(o.seq ?? 0),
    ...be32(o.ack ?? 0),
    ((20 + opts.length) / 4) << 4,
    flags,
    ...be16(o.win ?? 64240),
    0,
    0,
    0,
    0,
    ...opts,
    ...(o.data ?? []),
  ];
}

export function udp(sport: number, dport: number, body: Bytes): Bytes {
  return [...be16(sport), ...be16(dport), ...be16(8 + body.length), 0, 0, ...body];
}

export function icmp(type: number, code: number, rest: Bytes, body: Bytes = []): Bytes {
  const m = [type, code, 0, 0, ...rest, ...body];
  const c = checksum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

export function arp(
  op: number,
  senderMac: string,
  senderIp: string,
  targetMac: string,
  targetIp: string,
): Bytes {
  return [
    ...be16(1),
    ...be16(0x0800),
    6,
    4,
    ...be16(op),
    ...mac(senderMac),
    ...ip4(senderIp),
    ...mac(targetMac),
    ...ip4(targetIp),
  ];
}

export function gre(
  protocol: number,
  body: Bytes,
  o: { key?: number; checksum?: boolean; seq?: number } = {},
): Bytes {
  const flags =
    (o.checksum ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0);
  return [
    ...be16(flags),
    ...be16(protocol),
    ...(o.checksum ? [0, 0, 0, 0] : []),
    ...(o.key !== undefined ? be32(o.key) : []),
    ...(o.seq !== undefined ? be32(o.seq) : []),
    ...body,
  ];
}

export function vxlan(vni: number, frame: Bytes): Bytes {
  return [0x08, 0, 0, 0, ...be32(vni << 8), ...frame];
}

export function geneve(vni: number, protocol: number, body: Bytes, options: Bytes = []): Bytes {
  return [options.length / 4, 0, ...be16(protocol), ...be32(vni << 8), ...options, ...body];
}

export const u8 = (b: Bytes): Uint8Array => new Uint8Array(b);
