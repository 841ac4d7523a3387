// A bounded set of packet keys (two 32-bit halves), the oldest forgotten first: the packets --drops let go
// before their verdict, to know their drop when it comes (by key, not by the tracker's place: the arena may
// let go of a packet the tracker has forgotten, its place another's by then). No allocation per key: the
// packet table and a ring of keys.
import { PacketTable } from "./table.js";

export class RecentKeys {
  private readonly set: PacketTable;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private next = 0;
  private filled = false;

  constructor(readonly capacity: number) {
    this.set = new PacketTable(capacity);
    this.lo = new Int32Array(capacity);
    this.hi = new Int32Array(capacity);
  }

  has(lo: number, hi: number): boolean {
    return this.set.find(lo, hi) >= 0;
  }

  add(lo: number, hi: number): void {
    if (this.set.find(lo, hi) >= 0) return;
    if (this.filled) this.delete(this.lo[this.next]!, this.hi[this.next]!);
    this.lo[this.next] = lo;
    this.hi[this.next] = hi;
    this.next = (this.next + 1) % this.capacity;
    if (this.next === 0) this.filled = true;
    this.set.add(lo, hi, 0, 0);
  }

  /** Forgets the key (its place in the ring is reused in turn; a key added again may go a little early). */
  delete(lo: number, hi: number): void {
    const slot = this.set.find(lo, hi);
    if (slot >= 0) this.set.remove(slot);
  }
}
