// Which nftables trace event dropped which packet. A trace event's id is a hash (of the skb's address and
// more), not anything ipft's record holds, so a drop is matched by what both carry: the packet's network
// header (IPv4: id, protocol, addresses; IPv6: addresses, next header, payload length, flow label, fields
// that forwarding does not change) and order: the trace event is sent from inside nft_do_chain, before the
// kernel frees the packet, so the event that dropped a packet is always read before its drop is handled.
import { isDrop, type TraceEvent } from "./message.js";

/** At most this many drop events wait for their packet, and headers of this many trace ids are kept. */
const MAX_PENDING = 1024;
const MAX_HEADERS = 4096;

const hex = (b: Uint8Array, from: number, to: number): string =>
  Buffer.from(b.subarray(from, to)).toString("hex");

/** The key both sides are compared by, from a network header; undefined when it is not IPv4 or IPv6. */
export function headerKey(ip: Uint8Array): string | undefined {
  const version = ip.length > 0 ? ip[0]! >> 4 : 0;
  if (version === 4 && ip.length >= 20) return `4:${hex(ip, 4, 6)}:${ip[9]}:${hex(ip, 12, 20)}`;
  if (version === 6 && ip.length >= 40) return `6:${hex(ip, 1, 7)}:${hex(ip, 8, 40)}`;
  return undefined;
}

/** The IP header in a record's packet bytes: at `start` when they start at the network header, else after an
 * Ethernet header (and any 802.1Q/802.1ad tags). Undefined when there is none. */
export function networkHeader(bytes: Uint8Array, atNetwork: boolean): Uint8Array | undefined {
  if (atNetwork) return bytes;
  let off = 12;
  for (;;) {
    if (bytes.length < off + 2) return undefined;
    const type = (bytes[off]! << 8) | bytes[off + 1]!;
    if (type === 0x8100 || type === 0x88a8) off += 4;
    else if (type === 0x0800 || type === 0x86dd) return bytes.subarray(off + 2);
    else return undefined;
  }
}

export class DropMatcher {
  /** Drop events not matched yet, oldest first, with their packet's key. */
  private pending: { event: TraceEvent; key: string | undefined }[] = [];
  /** The network header of each recent trace id: the kernel sends it with a packet's first event at each
   * hook only, so a chain policy's drop event has none of its own. */
  private readonly headers = new Map<number, Uint8Array>();
  /** Drop events pushed out unmatched (more than MAX_PENDING waiting). */
  letGo = 0;

  add(e: TraceEvent): void {
    if (e.network) {
      this.headers.delete(e.id);
      this.headers.set(e.id, e.network);
      if (this.headers.size > MAX_HEADERS) this.headers.delete(this.headers.keys().next().value!);
    }
    if (!isDrop(e)) return;
    const ip = e.network ?? this.headers.get(e.id);
    this.pending.push({ event: e, key: ip && headerKey(ip) });
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.letGo++;
    }
  }

  /** The oldest drop event for the packet with this network header (taken: it matches one drop only). With
   * no header (the record has no packet bytes) only `inOrder` allows the oldest drop event, when every traced
   * packet is a selected one: then drops and drop events come in the same order. */
  take(ip: Uint8Array | undefined, inOrder: boolean): TraceEvent | undefined {
    const key = ip && headerKey(ip);
    let i = -1;
    if (key !== undefined) i = this.pending.findIndex((p) => p.key === key);
    else if (inOrder && this.pending.length > 0) i = 0;
    if (i < 0) return undefined;
    return this.pending.splice(i, 1)[0]!.event;
  }
}
