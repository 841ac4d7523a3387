// A deterministic packet generator for filter tests: Ethernet frames carrying IPv4 or IPv6 (TCP, UDP,
// ICMP, ICMPv6, GRE, IPv6 fragment headers), ARP and other ether types, with 0, 1 or 2 VLAN tags; addresses,
// ports and types drawn from small pools so that filters match some packets and not others; random TCP
// flags, IP options, fragment offsets, TTLs and payload lengths (some longer than the capture buffer), and
// some packets cut short. Each packet also comes as raw IP (no Ethernet header, no tags) when it is IP.

export interface TestPacket {
  /** The frame from the Ethernet header. */
  ether: Uint8Array;
  /** The packet from the IP header, when the frame carries IPv4 or IPv6 (cut where the frame is cut). */
  raw?: Uint8Array;
  what: string;
}

/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01"];
export const IP4S = ["10.0.0.1", "10.0.0.2", "192.168.1.5", "192.168.2.7", "172.16.0.9"];
export const IP6S = ["2001:db8::1", "2001:db8::2", "fe80::1", "2001:db8:1::5"];
const PORTS = [80, 443, 22, 53, 54, 67, 1000, 1500, 2000, 2001, 8080];
const VLANS = [100, 200, 4095];
const ICMP_TYPES = [0, 8, 3, 11];
const ICMP6_TYPES = [128, 129, 135, 136];

function mac(s: string): number[] {
  return s.split(":").map((h) => Number.parseInt(h, 16));
}

function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

function ip6(s: string): number[] {
  const [head, tail] = s.split("::") as [string, string | undefined];
  const words = (t: string) => (t ? t.split(":").map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

export function generate(count: number, seed = 1): TestPacket[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const chance = (p: number) => r() < p;
  const bytes = (n: number) => Array.from({ length: n }, () => int(256));
  const randMac = () => [2, ...bytes(5)];
  const addr4 = () => (chance(0.8) ? ip4(pick(IP4S)) : bytes(4));
  const addr6 = () => (chance(0.8) ? ip6(pick(IP6S)) : bytes(16));
  const port = () => (chance(0.8) ? pick(PORTS) : int(65536));

  function l4(proto: number, v6: boolean): { bytes: number[]; what: string } {
    const payload = bytes(chance(0.15) ? 150 + int(250) : int(40));
    if (proto === 6) {
      const flags = chance(0.5) ? pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04]) : int(256);
      const sport = port();
      const dport = port();
      // Sometimes an HTTP request, for filters that look into the payload.
      const data = chance(0.2) ? [...Buffer.from("GET / HTTP/1.1\r\n")] : payload;
      const hdr = [...be16(sport), ...be16(dport), ...bytes(8), 0x50, flags, ...be16(int(65536)), 0, 0, 0, 0];
      return { bytes: [...hdr, ...data], what: `tcp ${sport}>${dport} flags ${flags.toString(16)}` };
    }
    if (proto === 17) {
      const sport = port();
      const dport = port();
      return {
        bytes: [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload],
        what: `udp ${sport}>${dport}`,
      };
    }
    if (proto === 1 || proto === 58) {
      const type = chance(0.8) ? pick(v6 ? ICMP6_TYPES : ICMP_TYPES) : int(256);
      return {
        bytes: [type, int(4), 0, 0, ...bytes(4), ...payload],
        what: `icmp${v6 ? "6" : ""} type ${type}`,
      };
    }
    return { bytes: payload, what: `proto ${proto}` };
  }

  function ipv4(): { bytes: number[]; what: string } {
    const proto = pick([6, 6, 17, 17, 1, 47, int(256)]);
    const optWords = chance(0.15) ? 1 + int(3) : 0;
    const body = l4(proto, false);
    const total = 20 + optWords * 4 + body.bytes.length;
    const frag = chance(0.1) ? (chance(0.5) ? 0x2000 : 0) | (1 + int(0x1fff)) : chance(0.5) ? 0x4000 : 0;
    const hdr = [
      0x45 + optWords,
      int(256),
      ...be16(chance(0.9) ? total : int(65536)),
      ...bytes(2),
      ...be16(frag),
      chance(0.1) ? 0 : int(256), // TTL: 0 at times, for the filters that divide by it
      proto,
      0,
      0,
      ...addr4(),
      ...addr4(),
      ...Array.from({ length: optWords * 4 }, () => 1),
    ];
    return { bytes: [...hdr, ...body.bytes], what: `ip ${body.what}${frag & 0x1fff ? " frag" : ""}` };
  }

  function ipv6(): { bytes: number[]; what: string } {
    let proto = pick([6, 6, 17, 17, 58, int(256)]);
    let ext: number[] = [];
    if (chance(0.1)) {
      ext = [proto, 0, ...be16(chance(0.5) ? 0 : 8), ...bytes(4)]; // a fragment header
      proto = 44;
    }
    const body = l4(ext.length ? ext[0]! : proto, true);
    const plen = ext.length + body.bytes.length;
    const hdr = [0x60, 0, 0, int(256), ...be16(plen), proto, int(256), ...addr6(), ...addr6()];
    return { bytes: [...hdr, ...ext, ...body.bytes], what: `ip6 ${ext.length ? "frag " : ""}${body.what}` };
  }

  const out: TestPacket[] = [];
  for (let n = 0; n < count; n++) {
    const dst = chance(0.7) ? mac(pick(MACS)) : randMac();
    const src = chance(0.7) ? mac(pick(MACS)) : randMac();
    const tags: number[] = [];
    const ntags = chance(0.25) ? (chance(0.8) ? 1 : 2) : 0;
    for (let t = 0; t < ntags; t++) {
      const tpid = ntags === 2 && t === 0 ? 0x88a8 : 0x8100;
      tags.push(...be16(tpid), ...be16((int(8) << 13) | (chance(0.8) ? pick(VLANS) : int(4096))));
    }
    const kind = r();
    let l3: { bytes: number[]; what: string; type: number };
    if (kind < 0.55) l3 = { ...ipv4(), type: 0x0800 };
    else if (kind < 0.88) l3 = { ...ipv6(), type: 0x86dd };
    else if (kind < 0.95) l3 = { bytes: bytes(28), what: "arp", type: 0x0806 };
    else l3 = { bytes: bytes(int(60)), what: "other", type: int(65536) };
    const head = [...dst, ...src, ...tags, ...be16(l3.type)];
    let ether = new Uint8Array([...head, ...l3.bytes]);
    let what = `${ntags ? `vlan×${ntags} ` : ""}${l3.what}`;
    if (chance(0.12)) {
      ether = ether.slice(0, int(ether.length));
      what += ` cut at ${ether.length}`;
    }
    const ip = l3.type === 0x0800 || l3.type === 0x86dd;
    const packet: TestPacket = { ether, what };
    if (ip) packet.raw = ether.slice(Math.min(head.length, ether.length));
    out.push(packet);
  }
  return out;
}
