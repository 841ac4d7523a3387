// The packet tracker: what a packet is, defined once for every writer, the summary and --drops. An skb
// address is no packet (the kernel reuses a freed skb at once: thirty datagrams in a row may use two
// addresses), so a packet is what its key says (key.ts: its track id where tracking gave one, else its
// skb address) from its first event to its verdict, then the events that continue it (its free path, a
// function's return: record.ts continuesPacket); the next event at that key is a new packet. Packets are
// numbered 1, 2, 3... by first appearance: the one number json, stream, aggregate and the trace file
// (epb_packetid) print for a packet, given once per event as the ring is read (numbered()), before any
// writer holds or reorders events, so every writer and the file see the same id for the same event.
// Memory is bounded: past `max` packets the one first seen longest ago is forgotten (a later event of it,
// rare by then, is a new packet).
import { continuesPacket, HIGH_WORD, OFF_FLAGS, OFF_VERDICT } from "../../record/record.js";
import type { Writer } from "../types.js";
import { packetKeyOffset } from "./key.js";
import { PacketTable } from "./table.js";

/** Packets remembered at most. */
export const MAX_TRACKED = 1 << 16;

/** What an event is to its packet (PacketTracker.state). */
export const PACKET_NEW = 0;
/** An event of a packet whose verdict has not come. */
export const PACKET_OPEN = 1;
/** An event that continues a packet after its verdict (its free path, a return). */
export const PACKET_AFTER = 2;

export class PacketTracker {
  /** What the last event given to of() was to its packet: PACKET_NEW, PACKET_OPEN or PACKET_AFTER. */
  state = PACKET_NEW;
  /** The last event's packet's place: a number below `places` that no other packet tracked now has, for
   * per-packet values kept by the tracker's user in arrays (a new packet may be given a place used
   * before: reset the values when state is PACKET_NEW). */
  place = 0;
  /** How many places there are. */
  readonly places: number;
  /** Told of each packet forgotten before its verdict (its place, still its own during the call). */
  onForget: ((place: number) => void) | undefined;

  /** Key -> (id, place * 2 + 1 once its verdict was seen). */
  private readonly table: PacketTable;
  /** Keys in the order they were numbered (a ring). A packet's place is its entry's index in this ring;
   * an entry whose key was renumbered since (its packet has another place now) is skipped when forgetting. */
  private readonly qLo: Int32Array;
  private readonly qHi: Int32Array;
  private qHead = 0;
  private qLen = 0;
  private last = 0;

  constructor(private readonly max = MAX_TRACKED) {
    this.table = new PacketTable(max);
    this.qLo = new Int32Array(2 * max);
    this.qHi = new Int32Array(2 * max);
    // The last place is the one of events without a key, each a packet of its own.
    this.places = 2 * max + 1;
  }

  /** How many packets were numbered. */
  get count(): number {
    return this.last;
  }

  /** The id of the event's packet (call once per event, in the order the events came); sets state and
   * place. */
  of(dv: DataView, off: number): number {
    const k = packetKeyOffset(dv, off);
    const lo = dv.getInt32(k, true);
    const hi = dv.getInt32(k + HIGH_WORD, true);
    // The table's free mark: no record has it (the programs skip a NULL skb), but an event with it is a
    // packet of its own.
    if ((lo | hi) === 0) {
      this.state = PACKET_NEW;
      this.place = this.places - 1;
      return ++this.last;
    }
    const ends = dv.getUint32(off + OFF_VERDICT, true) !== 0 ? 1 : 0;
    const t = this.table;
    const slot = t.find(lo, hi);
    if (slot >= 0) {
      const id = t.a(slot);
      const b = t.b(slot);
      this.place = b >>> 1;
      if ((b & 1) === 0) {
        // Open: the same packet (ended now if this is its verdict).
        this.state = PACKET_OPEN;
        if (ends !== 0) t.set(slot, id, b | 1);
        return id;
      }
      if (ends === 0 && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) {
        this.state = PACKET_AFTER;
        return id;
      }
      // Ended: a new packet at the same key (renumbered before it is queued: its old entry in the ring is
      // then skipped, should the queue forget it to make room).
      const next = ++this.last;
      t.set(slot, next, this.nextPlace() * 2 + ends);
      this.queue(lo, hi);
      return next;
    }
    if (t.size >= this.max || this.qLen === this.qLo.length) this.forgetOldest();
    const next = ++this.last;
    t.add(lo, hi, next, this.nextPlace() * 2 + ends);
    this.queue(lo, hi);
    return next;
  }

  /** The place the next packet queued gets (forgetting the oldest to make room does not change it), made
   * the current one. */
  private nextPlace(): number {
    this.state = PACKET_NEW;
    this.place = (this.qHead + this.qLen) % this.qLo.length;
    return this.place;
  }

  /** Calls `f` with the place of every packet tracked whose verdict has not come. */
  forEachOpen(f: (place: number) => void): void {
    this.table.forEachValue((_id, b) => {
      if ((b & 1) === 0) f(b >>> 1);
    });
  }

  /** Queues the key (at its place). */
  private queue(lo: number, hi: number): void {
    if (this.qLen === this.qLo.length) this.forgetOldest();
    const at = (this.qHead + this.qLen++) % this.qLo.length;
    this.qLo[at] = lo;
    this.qHi[at] = hi;
  }

  private forgetOldest(): void {
    while (this.qLen > 0) {
      const at = this.qHead;
      this.qHead = (this.qHead + 1) % this.qLo.length;
      this.qLen--;
      const slot = this.table.find(this.qLo[at]!, this.qHi[at]!);
      if (slot >= 0 && this.table.b(slot) >>> 1 === at) {
        if ((this.table.b(slot) & 1) === 0) this.onForget?.(at);
        this.table.remove(slot);
        return;
      }
    }
  }
}

/** What the ring's reader calls per event: the event with its packet id, to the writer. */
export function numbered(w: Writer, ids = new PacketTracker()): (dv: DataView, off: number) => void {
  return (dv, off) => w.write(dv, off, ids.of(dv, off));
}
