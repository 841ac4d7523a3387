// The aggregate print order: traces grouped by skb address (ipftrace2's notion of a packet), or by track id
// where tracking gave one (so two packets at one reused address never merge), each group's
// traces by timestamp (ties by arrival), a group split after each verdict (the kernel reuses a freed skb's
// address for a later packet) and the events that continue it (a function's return, the skb's free path:
// record.ts continuesPacket), packets in order of their first (earliest) event, ties by arrival.
import {
  type TraceStore,
  W_SKB_HI,
  W_SKB_LO,
  W_TRACK_HI,
  W_TRACK_LO,
  W_TS_HI,
  W_TS_LO,
} from "./trace-store.js";

export interface PacketOrder {
  /** Trace indices, packet after packet. */
  order: Int32Array;
  /** Packet k's traces are order[starts[k] .. starts[k + 1]). */
  starts: Int32Array;
  packets: number;
}

export function packetOrder(
  s: TraceStore,
  isVerdict: (i: number) => boolean = () => false,
  continues: (i: number) => boolean = () => false,
): PacketOrder {
  const n = s.length;
  // 1. A packet number per trace, by first arrival. Keyed by the address's low half (no bigint per
  //    trace); the rare address that shares its low half with another packet goes to a bigint map.
  const packetOf = new Int32Array(n);
  const byLow = new Map<number, number>();
  const byFull = new Map<bigint, number>();
  const hiOf: number[] = [];
  for (let i = 0; i < n; i++) {
    // The track id when there is one (a time, never an address: the two cannot collide), else the skb.
    const tracked = (s.word(i, W_TRACK_LO) | s.word(i, W_TRACK_HI)) !== 0;
    const lo = s.word(i, tracked ? W_TRACK_LO : W_SKB_LO);
    const hi = s.word(i, tracked ? W_TRACK_HI : W_SKB_HI);
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

  // 4. A verdict ends its packet: what follows at the same address is another packet, once the events
  //    that continue the ended one (its free path, returns) are past.
  const bounds: number[] = [];
  for (let k = 0; k < packets; k++) {
    bounds.push(count[k]!);
    const end = count[k + 1]!;
    for (let j = count[k]!; j < end - 1; j++) {
      if (!isVerdict(byPacket[j]!)) continue;
      while (j + 1 < end && continues(byPacket[j + 1]!) && !isVerdict(byPacket[j + 1]!)) j++;
      if (j + 1 < end) bounds.push(j + 1);
    }
  }
  bounds.push(n);
  const groups = bounds.length - 1;

  // 5. Packets by their first trace.
  const rank = new Int32Array(groups);
  for (let k = 0; k < groups; k++) rank[k] = k;
  rank.sort((a, b) => earlier(byPacket[bounds[a]!]!, byPacket[bounds[b]!]!));

  const order = new Int32Array(n);
  const starts = new Int32Array(groups + 1);
  let at = 0;
  for (let r = 0; r < groups; r++) {
    const k = rank[r]!;
    starts[r] = at;
    order.set(byPacket.subarray(bounds[k]!, bounds[k + 1]!), at);
    at += bounds[k + 1]! - bounds[k]!;
  }
  starts[groups] = at;
  return { order, starts, packets: groups };
}
