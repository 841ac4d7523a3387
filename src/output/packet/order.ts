// The aggregate print order: traces grouped by packet id (packet/tracker.ts: a track id, or an skb
// address from its first event to its verdict and what continues it), each group's traces by timestamp
// (ties by arrival), packets in order of their first (earliest) event, ties by arrival.
import { type TraceStore, W_PACKET, W_TS_HI, W_TS_LO } from "../trace-store.js";

export interface PacketOrder {
  /** Trace indices, packet after packet. */
  order: Int32Array;
  /** Packet k's traces are order[starts[k] .. starts[k + 1]). */
  starts: Int32Array;
  packets: number;
}

export function packetOrder(s: TraceStore): PacketOrder {
  const n = s.length;
  // 1. A group per packet id, by first arrival.
  const packetOf = new Int32Array(n);
  const groupOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = s.word(i, W_PACKET);
    let g = groupOf.get(id);
    if (g === undefined) {
      g = groupOf.size;
      groupOf.set(id, g);
    }
    packetOf[i] = g;
  }
  const packets = groupOf.size;

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
