// Text made once per function address (the same few hundred addresses repeat millions of times), looked
// up by the address's two 32-bit halves so the hot path makes no bigint.
import { type Symbolizer, type SymbolName, UNKNOWN } from "../types.js";

interface Entry {
  hi: number;
  text: string;
  next: Entry | undefined;
}

export class NameCache {
  private readonly byLow = new Map<number, Entry>();

  constructor(
    private readonly symbolizer: Symbolizer,
    private readonly make: (sym: SymbolName) => string,
  ) {}

  /** The text for the address `hi * 2^32 + lo`. */
  lookup(lo: number, hi: number): string {
    const first = this.byLow.get(lo);
    for (let e = first; e !== undefined; e = e.next) if (e.hi === hi) return e.text;
    const sym = this.symbolizer.resolve((BigInt(hi) << 32n) | BigInt(lo)) ?? UNKNOWN;
    const text = this.make(sym);
    this.byLow.set(lo, { hi, text, next: first });
    return text;
  }

  /** The text for the u64 address at byte `at` of `dv`. */
  get(dv: DataView, at: number): string {
    return this.lookup(dv.getUint32(at, true), dv.getUint32(at + 4, true));
  }
}
