// The events --drops holds until their packet's verdict, as raw bytes in one arena: a circular log of
// records in arrival order, each packet's records chained from its first. No object per event: a buffer
// and an array slot per held event made --drops read some 20 times slower than this (bench/drops-hold.ts),
// below what a TCP flood between two namespaces sends (bench/drops-flood.ts).
//
// The arena grows (doubling) up to its byte bound; at the bound, the packets whose first records are the
// oldest are let go until a quarter of it is free. Packets are bounded too (the table's size): past it the
// oldest is let go. A packet released (its verdict came, or it ended without one) leaves dead records:
// the log's tail skips them, and when live records of long-held packets pin the tail, the live records are
// packed together in place.
//
// A record in the log: 16-byte header (u32 size with the header, rounded to 16; u32 distance to the
// packet's next record, 0 for none; u32 the packet's entry; u32 0), then the trace record. A record never
// wraps: what does not fit before the arena's end starts at its beginning, after a pad (entry PAD).
import { PacketTable } from "./packet/table.js";

const HDR = 16;
const PAD = 0xffffffff;
const MIN_ARENA = 1 << 20;

/** Why a packet's events were let go before its verdict. */
export const LET_GO_MEMORY = 0;
export const LET_GO_TABLE = 1;

export class HeldEvents {
  /** Packets let go before their verdict, by reason (LET_GO_MEMORY, LET_GO_TABLE). */
  readonly letGo = [0, 0];
  /** The most bytes the arena held at once (records and their headers). */
  peakBytes = 0;

  /** skb address -> entry (in the table's value word). */
  private readonly table: PacketTable;
  // Per entry: the packet's track id halves, where its first and last records are (log positions), and
  // its skb address (to take it out of the table).
  private readonly trkLo: Uint32Array;
  private readonly trkHi: Uint32Array;
  private readonly skbLo: Uint32Array;
  private readonly skbHi: Uint32Array;
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  /** Entries not in use, as a stack. */
  private readonly freeList: Int32Array;
  private freeTop: number;

  private buf: Uint8Array;
  private view: DataView;
  /** Log positions (bytes written since the start, never wrapping): the next record's, the oldest's. */
  private head = 0;
  private tail = 0;
  private live = 0;
  /** The trace records' buffer as words, for copying (the ring's pages: the same buffer every time). */
  private src: Int32Array | undefined;
  private words: Int32Array;

  /** `maxBytes`: the arena's bound (a multiple of 16, above the largest record); `maxPackets`: packets
   * held at once. */
  constructor(
    readonly maxBytes: number,
    readonly maxPackets: number,
  ) {
    this.table = new PacketTable(maxPackets);
    this.trkLo = new Uint32Array(maxPackets);
    this.trkHi = new Uint32Array(maxPackets);
    this.skbLo = new Uint32Array(maxPackets);
    this.skbHi = new Uint32Array(maxPackets);
    this.first = new Float64Array(maxPackets).fill(-1);
    this.last = new Float64Array(maxPackets);
    this.freeList = new Int32Array(maxPackets);
    for (let i = 0; i < maxPackets; i++) this.freeList[i] = maxPackets - 1 - i;
    this.freeTop = maxPackets;
    // Start small and double up to the bound exactly (so no record ever crosses the end: see grow()).
    let cap = maxBytes;
    while (cap / 2 >= MIN_ARENA && (cap / 2) % 16 === 0) cap /= 2;
    this.buf = new Uint8Array(cap);
    this.view = new DataView(this.buf.buffer);
    this.words = new Int32Array(this.buf.buffer);
  }

  /** Packets held now. */
  get packets(): number {
    return this.maxPackets - this.freeTop;
  }

  /** The arena's size now (it grows up to maxBytes). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Bytes held now (records and headers). */
  get bytes(): number {
    return this.live;
  }

  /** The entry holding the packet at this skb address, or -1. */
  find(skbLo: number, skbHi: number): number {
    const slot = this.table.find(skbLo, skbHi);
    return slot < 0 ? -1 : this.table.a(slot);
  }

  /** Whether the entry's packet has this track id (0, 0 without tracking). */
  sameTrack(e: number, trkLo: number, trkHi: number): boolean {
    return this.trkLo[e] === trkLo >>> 0 && this.trkHi[e] === trkHi >>> 0;
  }

  /** Holds a copy of the record (`len` bytes at `off`) as the last of entry `e`'s packet, or as the first
   * of a new packet when `e` is -1. Returns the entry, or -1 when the record alone exceeds the bound. */
  hold(
    dv: DataView,
    off: number,
    len: number,
    e: number,
    skbLo: number,
    skbHi: number,
    trkLo: number,
    trkHi: number,
  ): number {
    const size = (HDR + len + 15) & ~15;
    if (size > this.maxBytes) return -1;
    let pos: number;
    if (e >= 0) {
      pos = this.reserve(size);
      // Making room let this very packet go (it was the oldest): this record starts it again.
      if (this.first[e]! < 0) e = this.take(skbLo, skbHi, trkLo, trkHi);
    } else {
      e = this.take(skbLo, skbHi, trkLo, trkHi);
      pos = this.reserve(size);
    }
    const p = pos % this.buf.length;
    this.view.setUint32(p, size, true);
    this.view.setUint32(p + 4, 0, true);
    this.view.setUint32(p + 8, e, true);
    this.view.setUint32(p + 12, 0, true);
    const from = dv.byteOffset + off;
    if ((from & 3) === 0 && (len & 3) === 0) {
      // Records are 8-aligned in the ring (and their lengths multiples of 8): a word loop, no view made.
      if (this.src?.buffer !== dv.buffer) this.src = new Int32Array(dv.buffer, 0, dv.buffer.byteLength >>> 2);
      const src = this.src;
      const dst = this.words;
      const d = (p + HDR) >>> 2;
      const f = from >>> 2;
      for (let i = 0, n = len >>> 2; i < n; i++) dst[d + i] = src[f + i]!;
    } else this.buf.set(new Uint8Array(dv.buffer, from, len), p + HDR);
    if (this.first[e]! < 0) this.first[e] = pos;
    else this.view.setUint32((this.last[e]! % this.buf.length) + 4, pos - this.last[e]!, true);
    this.last[e] = pos;
    return e;
  }

  /** A new packet's entry (the oldest packet is let go when every entry is in use). */
  private take(skbLo: number, skbHi: number, trkLo: number, trkHi: number): number {
    if (this.freeTop === 0) this.letGoOldest(LET_GO_TABLE);
    const e = this.freeList[--this.freeTop]!;
    this.table.add(skbLo, skbHi, e, 0);
    this.skbLo[e] = skbLo >>> 0;
    this.skbHi[e] = skbHi >>> 0;
    this.trkLo[e] = trkLo >>> 0;
    this.trkHi[e] = trkHi >>> 0;
    this.first[e] = -1;
    return e;
  }

  /** Calls `f` with each held record of entry `e`, oldest first (a view into the arena: valid during the
   * call only). */
  forEach(e: number, f: (dv: DataView, off: number) => void): void {
    let pos = this.first[e]!;
    if (pos < 0) return;
    for (;;) {
      const p = pos % this.buf.length;
      f(this.view, p + HDR);
      const next = this.view.getUint32(p + 4, true);
      if (next === 0) return;
      pos += next;
    }
  }

  /** Lets the entry's packet go: its records are dead from now on. */
  release(e: number): void {
    const slot = this.table.find(this.skbLo[e]! | 0, this.skbHi[e]! | 0);
    if (slot >= 0) this.table.remove(slot);
    for (let pos = this.first[e]!; pos >= 0; ) {
      const p = pos % this.buf.length;
      this.live -= this.view.getUint32(p, true);
      const next = this.view.getUint32(p + 4, true);
      pos = next === 0 ? -1 : pos + next;
    }
    this.first[e] = -1;
    this.freeList[this.freeTop++] = e;
    // Nothing live: the whole log is free again (no dead records to skip).
    if (this.live === 0) this.tail = this.head;
  }

  /** Room for `size` bytes at the head, not crossing the arena's end: returns the record's position. */
  private reserve(size: number): number {
    for (;;) {
      const cap = this.buf.length;
      const p = this.head % cap;
      if (p + size > cap && this.tail === this.head) {
        // Empty: start at the arena's beginning, nothing to pad.
        this.head += cap - p;
        this.tail = this.head;
        continue;
      }
      const need = p + size > cap ? cap - p + size : size;
      if (this.head + need - this.tail <= cap) {
        if (need !== size) {
          // Pad to the end (a whole number of 16 bytes): the record starts at the beginning.
          this.view.setUint32(p, cap - p, true);
          this.view.setUint32(p + 8, PAD, true);
          this.head += cap - p;
        }
        const pos = this.head;
        this.head += size;
        this.live += size;
        if (this.live > this.peakBytes) this.peakBytes = this.live;
        return pos;
      }
      if (this.skipDead()) continue;
      // Full of held events: a bigger arena while below the bound; at the bound the oldest packets go
      // until a quarter is free. Else it is full of dead records between live ones: pack the live ones.
      if (cap < this.maxBytes && this.live + size > cap / 2) this.grow();
      else {
        while (this.live > 0 && this.live + size > (cap * 3) / 4) this.letGoOldest(LET_GO_MEMORY);
        this.compact();
      }
    }
  }

  /** Moves the tail past the dead records and pads at it; whether it moved. */
  private skipDead(): boolean {
    const start = this.tail;
    while (this.tail < this.head) {
      const p = this.tail % this.buf.length;
      const e = this.view.getUint32(p + 8, true);
      if (e !== PAD && this.first[e] === this.tail) break;
      this.tail += this.view.getUint32(p, true);
    }
    return this.tail !== start;
  }

  /** Moves the live records down over the dead ones, in order, relinking each packet's chain. */
  private compact(): void {
    const cap = this.buf.length;
    const v = this.view;
    let w = this.tail;
    for (let r = this.tail; r < this.head; ) {
      const rp = r % cap;
      const size = v.getUint32(rp, true);
      const e = v.getUint32(rp + 8, true);
      // Live: its entry's packet is held and began no later (an entry's earlier packets' records lie before).
      if (e !== PAD && this.first[e]! >= 0 && r >= this.first[e]!) {
        let wp = w % cap;
        if (wp + size > cap) {
          // w is behind r (by whole records): padding to the end never reaches past r.
          v.setUint32(wp, cap - wp, true);
          v.setUint32(wp + 8, PAD, true);
          w += cap - wp;
          wp = 0;
        }
        if (w !== r) this.buf.copyWithin(wp, rp, rp + size);
        v.setUint32(wp + 4, 0, true);
        if (r === this.first[e]) this.first[e] = w;
        else v.setUint32((this.last[e]! % cap) + 4, w - this.last[e]!, true);
        this.last[e] = w;
        w += size;
      }
      r += size;
    }
    this.head = w;
  }

  /** Doubles the arena (up to the bound), keeping every record at its position: a record that did not
   * cross the old end does not cross the new one. */
  private grow(): void {
    const old = this.buf;
    const cap = Math.min(2 * old.length, this.maxBytes);
    this.buf = new Uint8Array(cap);
    for (let pos = this.tail; pos < this.head; ) {
      const o = pos % old.length;
      const n = pos % cap;
      const len = Math.min(this.head - pos, old.length - o, cap - n);
      this.buf.set(old.subarray(o, o + len), n);
      pos += len;
    }
    this.view = new DataView(this.buf.buffer);
    this.words = new Int32Array(this.buf.buffer);
  }

  /** Lets go of the packet whose first record is the oldest (every held packet has one in the log). */
  private letGoOldest(why: number): void {
    while (this.tail < this.head) {
      const p = this.tail % this.buf.length;
      const size = this.view.getUint32(p, true);
      const e = this.view.getUint32(p + 8, true);
      this.tail += size;
      if (e !== PAD && this.first[e] === this.tail - size) {
        this.letGoEntry(e, why);
        return;
      }
    }
  }

  private letGoEntry(e: number, why: number): void {
    this.letGo[why]!++;
    this.onLetGo?.(this.trkLo[e]!, this.trkHi[e]!, this.skbLo[e]!, this.skbHi[e]!);
    this.release(e);
  }

  /** Told of each packet let go (its track id and skb address), to recognize its verdict later. */
  onLetGo: ((trkLo: number, trkHi: number, skbLo: number, skbHi: number) => void) | undefined;
}
