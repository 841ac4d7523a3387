// The aggregate print order: traces grouped by skb address (ipftrace2's notion of a packet), packets in
// order of their first (earliest) event, ties by arrival, each packet's traces by timestamp, ties by arrival.
import { type TraceStore, W_SKB_HI, W_SKB_LO, W_TS_HI, W_TS_LO } from "./trace-store.js";

export interface PacketOrder {
  /** Trace indices, packet after packet. */
  order: Int32Array;
  /** Packet k's traces are order[starts[k] .. starts[k + 1]). */
  starts: Int32Array;
  packets: number;
}

export function packetOrder(s: TraceStore): PacketOrder {
  const n = s.length;
  // 1. A packet number per trace, by first arrival. Keyed by the address's low half (no bigint per
  //    trace); the rare address that shares its low half with another packet goes to a bigint map.
  const packetOf = new Int32Array(n);
  const byLow = new Map<number, number>();
  const byFull = new Map<bigint, number>();
  const hiOf: number[] = [];
  for (let i = 0; i < n; i++) {
    const lo = s.word(i, W_SKB_LO);
    const hi = s.word(i, W_SKB_HI);
    let id = byLow.get(lo);
    if (id === undefined) {
      id = hiOf.length;
      hiOf.push(hi);
      byLow.set(lo, id);
    } else if (hiOf[id] !== hi) {
      const full = (BigInt(hi) << 32n) | BigInt(lo);
      id = byFull.get(full);
      if (id === undefined) {
        id = hiOf.length;
        hiOf.push(hi);
        byFull.set(full, id);
      }
    }
    packetOf[i] = id;
  }
  const packets = hiOf.length;

  // 2. Bucket the traces by packet, keeping arrival order (counting sort).
  const count = new Int32Array(packets + 1);
  for (let i = 0; i < n; i++) count[packetOf[i]! + 1]!++;
  for (let k = 0; k < packets; k++) count[k + 1]! += count[k]!;
  const byPacket = new Int32Array(n);
  const fill = count.slice(0, packets);
  for (let i = 0; i < n; i++) byPacket[fill[packetOf[i]!]!++] = i;

  // 3. Each packet's traces by time. They mostly arrive in order, so check before sorting.
  const earlier = (a: number, b: number): number => {
    const d = s.word(a, W_TS_HI) - s.word(b, W_TS_HI) || s.word(a, W_TS_LO) - s.word(b, W_TS_LO);
    return d || a - b;
  };
  for (let k = 0; k < packets; k++) {
    const from = count[k]!;
    const to = count[k + 1]!;
    for (let j = from + 1; j < to; j++) {
      if (earlier(byPacket[j - 1]!, byPacket[j]!) > 0) {
        byPacket.subarray(from, to).sort(earlier);
        break;
      }
    }
  }

  // 4. Packets by their first trace.
  const rank = new Int32Array(packets);
  for (let k = 0; k < packets; k++) rank[k] = k;
  rank.sort((a, b) => earlier(byPacket[count[a]!]!, byPacket[count[b]!]!));

  const order = new Int32Array(n);
  const starts = new Int32Array(packets + 1);
  let at = 0;
  for (let r = 0; r < packets; r++) {
    const k = rank[r]!;
    starts[r] = at;
    order.set(byPacket.subarray(count[k]!, count[k + 1]!), at);
    at += count[k + 1]! - count[k]!;
  }
  starts[packets] = at;
  return { order, starts, packets };
}
