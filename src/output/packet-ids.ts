// Packet ids: 1, 2, 3... in the order packets first appear in the trace, the one number json, stream,
// aggregate and the trace file (epb_packetid) print for a packet. An skb address is no id (the kernel
// reuses a freed skb at once: thirty datagrams in a row may use two addresses), so a packet is what the
// writers' packet key says (output/packet-key.ts): its track id where tracking gave one, else its skb
// address from its first event to its verdict, then the events that continue it (its free path, a
// function's return: record.ts continuesPacket); the next event at that key is a new packet.
// Numbered once per event as the ring is read (numbered()), before any writer holds or reorders events,
// so every writer and the file see the same id for the same event. Packets are held in bounded memory:
// past MAX_NUMBERED the packet first seen longest ago is forgotten (a later event of it, rare by then,
// would get a new id).
import { continuesPacket, HIGH_WORD, OFF_FLAGS, OFF_VERDICT } from "../record/record.js";
import { OpenPackets } from "./open-packets.js";
import { packetKeyOffset } from "./packet-key.js";
import type { Writer } from "./types.js";

/** Packets whose id is remembered at most. */
export const MAX_NUMBERED = 1 << 16;

export class PacketIds {
  /** Key -> (id, 1 once its verdict was seen). */
  private readonly table: OpenPackets;
  /** Keys and ids in the order they were numbered (a ring; an entry whose key was renumbered since is
   * skipped when forgetting). */
  private readonly qLo: Int32Array;
  private readonly qHi: Int32Array;
  private readonly qId: Uint32Array;
  private qHead = 0;
  private qLen = 0;
  private last = 0;

  constructor(private readonly max = MAX_NUMBERED) {
    this.table = new OpenPackets(max);
    this.qLo = new Int32Array(2 * max);
    this.qHi = new Int32Array(2 * max);
    this.qId = new Uint32Array(2 * max);
  }

  /** How many packets were numbered. */
  get count(): number {
    return this.last;
  }

  /** The id of the event's packet (call once per event, in the order the events came). */
  of(dv: DataView, off: number): number {
    const k = packetKeyOffset(dv, off);
    const lo = dv.getInt32(k, true);
    const hi = dv.getInt32(k + HIGH_WORD, true);
    // The table's free mark: no record has it (the programs skip a NULL skb), but an event with it is a
    // packet of its own.
    if ((lo | hi) === 0) return ++this.last;
    const ends = dv.getUint32(off + OFF_VERDICT, true) !== 0 ? 1 : 0;
    const t = this.table;
    const slot = t.find(lo, hi);
    if (slot >= 0) {
      const id = t.a(slot);
      // Open, or ended and this event continues it: the same packet.
      if (t.b(slot) === 0 || (ends === 0 && continuesPacket(dv.getUint32(off + OFF_FLAGS, true)))) {
        if (ends !== 0) t.set(slot, id, 1);
        return id;
      }
      // Ended: a new packet at the same key.
      const next = ++this.last;
      t.set(slot, next, ends);
      this.queue(lo, hi, next);
      return next;
    }
    if (t.size >= this.max || this.qLen === this.qLo.length) this.forgetOldest();
    const next = ++this.last;
    t.add(lo, hi, next, ends);
    this.queue(lo, hi, next);
    return next;
  }

  private queue(lo: number, hi: number, id: number): void {
    if (this.qLen === this.qLo.length) this.forgetOldest();
    const at = (this.qHead + this.qLen++) % this.qLo.length;
    this.qLo[at] = lo;
    this.qHi[at] = hi;
    this.qId[at] = id;
  }

  private forgetOldest(): void {
    while (this.qLen > 0) {
      const at = this.qHead;
      this.qHead = (this.qHead + 1) % this.qLo.length;
      this.qLen--;
      const slot = this.table.find(this.qLo[at]!, this.qHi[at]!);
      if (slot >= 0 && this.table.a(slot) === this.qId[at]) {
        this.table.remove(slot);
        return;
      }
    }
  }
}

/** What the ring's reader calls per event: the event with its packet id, to the writer. */
export function numbered(w: Writer, ids = new PacketIds()): (dv: DataView, off: number) => void {
  return (dv, off) => w.write(dv, off, ids.of(dv, off));
}
