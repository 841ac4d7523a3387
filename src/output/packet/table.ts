// Packets held by their key (the tracker's packets, recent-keys.ts's set, the --drops arena's packets by
// skb address): a hash table in one typed array (linear probing, deletion by backward shift), keyed by the
// packet key's two 32-bit halves, holding two 32-bit values per packet (tracker.ts: its id, its place and
// whether it ended). One 16-byte slot per packet (key and values side by side: one cache line per
// probe), no object per packet:
// at a hundred thousand packets a second, a Map of small objects costs more in lookups and garbage
// collection than printing the events does. The key (0, 0) marks a free slot: no packet has it (a packet's
// key is its track id or else its skb address, never both 0).

const LO = 0;
const HI = 1;
const A = 2;
const B = 3;

export class PacketTable {
  private readonly t: Int32Array;
  /** Slots - 1 (a power of two), and the same counted in words. */
  private readonly mask: number;
  size = 0;

  /** Room for `capacity` packets (the table is at most half full). */
  constructor(readonly capacity: number) {
    let n = 16;
    while (n < 2 * capacity) n *= 2;
    this.t = new Int32Array(4 * n);
    this.mask = n - 1;
  }

  private home(lo: number, hi: number): number {
    // skb addresses are 256-byte aligned: mix every bit into the low ones.
    let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 16;
    return h & this.mask;
  }

  private free(i: number): boolean {
    return (this.t[4 * i + LO]! | this.t[4 * i + HI]!) === 0;
  }

  /** The slot holding the key, or -1. */
  find(lo: number, hi: number): number {
    const t = this.t;
    lo |= 0;
    hi |= 0;
    for (let i = this.home(lo, hi); ; i = (i + 1) & this.mask) {
      const a = t[4 * i + LO]!;
      const b = t[4 * i + HI]!;
      if (a === lo && b === hi) return i;
      if ((a | b) === 0) return -1;
    }
  }

  /** Adds a key that is not in the table (the caller keeps size below capacity). */
  add(lo: number, hi: number, a: number, b: number): void {
    let i = this.home(lo | 0, hi | 0);
    while (!this.free(i)) i = (i + 1) & this.mask;
    const w = 4 * i;
    this.t[w + LO] = lo;
    this.t[w + HI] = hi;
    this.t[w + A] = a;
    this.t[w + B] = b;
    this.size++;
  }

  set(slot: number, a: number, b: number): void {
    this.t[4 * slot + A] = a;
    this.t[4 * slot + B] = b;
  }

  /** The slot's first value (unsigned). */
  a(slot: number): number {
    return this.t[4 * slot + A]! >>> 0;
  }

  /** The slot's second value (unsigned). */
  b(slot: number): number {
    return this.t[4 * slot + B]! >>> 0;
  }

  /** Takes the slot's packet out; the entries after it that probed past it move back. */
  remove(slot: number): void {
    const t = this.t;
    const m = this.mask;
    let i = slot;
    this.size--;
    for (let j = (i + 1) & m; !this.free(j); j = (j + 1) & m) {
      const k = this.home(t[4 * j + LO]!, t[4 * j + HI]!);
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      t.copyWithin(4 * i, 4 * j, 4 * j + 4);
      i = j;
    }
    t[4 * i + LO] = 0;
    t[4 * i + HI] = 0;
  }

  /** Calls `f` with the values of every packet held. */
  forEachValue(f: (a: number, b: number) => void): void {
    for (let i = 0; i <= this.mask; i++) if (!this.free(i)) f(this.a(i), this.b(i));
  }
}
