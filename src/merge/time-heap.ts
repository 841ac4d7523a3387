// A binary min-heap of items by a time (bigint): the journey window's live groups, the earliest first.
export class TimeHeap<T> {
  private readonly items: T[] = [];
  private readonly times: bigint[] = [];

  get length(): number {
    return this.items.length;
  }

  /** The earliest time (undefined when empty). */
  peekTime(): bigint | undefined {
    return this.times[0];
  }

  push(item: T, at: bigint): void {
    let i = this.items.length;
    this.items.push(item);
    this.times.push(at);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.times[p]! <= at) break;
      this.items[i] = this.items[p]!;
      this.times[i] = this.times[p]!;
      i = p;
    }
    this.items[i] = item;
    this.times[i] = at;
  }

  /** Takes the earliest item out. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0]!;
    const item = this.items.pop()!;
    const at = this.times.pop()!;
    if (n > 1) {
      const m = n - 1;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const c = l + 1 < m && this.times[l + 1]! < this.times[l]! ? l + 1 : l;
        if (this.times[c]! >= at) break;
        this.items[i] = this.items[c]!;
        this.times[i] = this.times[c]!;
        i = c;
      }
      this.items[i] = item;
      this.times[i] = at;
    }
    return top;
  }
}
