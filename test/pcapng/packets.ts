// Synthetic packets for the pcapng tests: IPv4 + UDP, bare (LINKTYPE_RAW) or behind an Ethernet header.

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 header and a UDP datagram of `payload` bytes. */
export function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: number): Uint8Array {
  const total = 20 + 8 + payload;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b[0] = 0x45;
  dv.setUint16(2, total);
  b[8] = 64; // ttl
  b[9] = 17; // udp
  b.set(src.split(".").map(Number), 12);
  b.set(dst.split(".").map(Number), 16);
  dv.setUint16(10, checksum(b.subarray(0, 20)));
  dv.setUint16(20, sport);
  dv.setUint16(22, dport);
  dv.setUint16(24, 8 + payload);
  for (let i = 0; i < payload; i++) b[28 + i] = 0x61 + (i % 26);
  return b;
}

/** The same behind an Ethernet II header (EtherType IPv4). */
export function etherIpv4Udp(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload: number,
): Uint8Array {
  const ip = ipv4Udp(src, dst, sport, dport, payload);
  const b = new Uint8Array(14 + ip.length);
  b.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
  b.set(ip, 14);
  return b;
}
