// What identifies a packet in the writers: its track id where tracking gave one (the same at every point
// of its journey, never shared with another packet at a reused skb address), else its skb address.
import { HIGH_WORD, OFF_SKB, OFF_TRACK } from "../../record/record.js";

/** The low and high 32-bit halves of the packet's key in the record at `off`. */
export function packetKeyOffset(dv: DataView, off: number): number {
  const tracked =
    (dv.getUint32(off + OFF_TRACK, true) | dv.getUint32(off + OFF_TRACK + HIGH_WORD, true)) !== 0;
  return off + (tracked ? OFF_TRACK : OFF_SKB);
}
