// What a packet carries that no machine on its way rewrites, so the same packet traced on several machines
// is known as one (--read of several files, docs/multi-host.md). A router decrements the TTL, a NAT
// rewrites addresses, ports and the ICMP echo id, and an Ethernet header is replaced at each hop; the IP
// version and protocol, IPv4's id, TCP's sequence and acknowledgement numbers, the ICMP type and echo
// sequence, the payload's length and its first bytes stay. Their text is the signature; no signature
// (undefined) for a packet whose bytes end before its payload's first bytes, or that is not IP.

import type { Header } from "../identity/index.js";
import { decodePacket } from "../identity/index.js";

/** Payload bytes hashed: enough to tell apart two packets of one flow, few enough to be captured
 * with a short --snaplen. */
export const HASHED_PAYLOAD = 64;

/** The signature of a packet's bytes (`link`: the record's link field). */
export function signatureOf(bytes: Uint8Array, link: number): string | undefined {
  const headers = decodePacket(bytes, link).headers;
  let ipAt = 0;
  let i = 0;
  for (; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.kind === "ethernet") ipAt += 14;
    else if (h.kind === "vlan") ipAt += 4;
    else break;
  }
  const ip = headers[i];
  if (!ip || (ip.kind !== "ipv4" && ip.kind !== "ipv6")) return undefined;
  if (ip.fragment) return undefined; // a fragment's payload is not its transport's
  const l4 = headers[i + 1];
  const carried = l4 ? transportFields(l4) : undefined;
  if (!carried) return undefined;
  // The payload ends where the IP header's length says; it starts its length before that.
  const start = ipAt + ip.length - carried.payload;
  const n = Math.min(carried.payload, HASHED_PAYLOAD);
  if (start < ipAt || start + n > bytes.length) return undefined;
  const id = ip.kind === "ipv4" ? ip.id : "";
  return `${ip.kind} ${ip.protocol} id ${id} ${carried.fields} len ${carried.payload} ${fnv1a(bytes, start, start + n)}`;
}

/** The transport header's unrewritten fields and its payload's length (undefined when not known). */
function transportFields(h: Header): { fields: string; payload: number } | undefined {
  if (h.kind === "tcp") {
    if (h.payload === undefined || h.seq === undefined) return undefined;
    return { fields: `seq ${h.seq} ack ${h.ack ?? ""} flags ${h.flags ?? ""}`, payload: h.payload };
  }
  if (h.kind === "udp" || h.kind === "udplite" || h.kind === "sctp") {
    if (h.payload === undefined) return undefined;
    return { fields: h.kind, payload: h.payload };
  }
  if (h.kind === "icmp" || h.kind === "icmp6") {
    if (h.length === undefined || h.length < 8) return undefined;
    return { fields: `type ${h.type} code ${h.code} seq ${h.seq ?? ""}`, payload: h.length - 8 };
  }
  return undefined;
}

/** 32-bit FNV-1a of bytes [from, to), in hex. */
function fnv1a(b: Uint8Array, from: number, to: number): string {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) h = Math.imul(h ^ b[k]!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
