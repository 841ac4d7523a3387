// The stream line (StreamLines.line: `PACKET 0xSKB TIMESTAMP CPU MODULE FUNCTION[ VERDICT]`) written as UTF-8
// straight into a pcapng block, for the file's comment: the same parts from the same StreamLines, but no
// string is built and encoded per event. The packet id's and skb's bytes are made once per run of events of one packet, each function's
// and verdict's text encoded once, the timestamp's and CPU's digits written in place.

import type { BlockBuilder } from "../pcapng/block-builder.js";
import { HIGH_WORD, OFF_CPU, OFF_FUNC, OFF_TSTAMP } from "../record/record.js";
import type { StreamLines } from "./stream.js";
import { parentHex } from "./text/clone-text.js";
import { PacketPrefix } from "./text/packet-prefix.js";

const SPACE = 0x20;
const ZERO = 0x30;

/** "00".."99" as two character codes each. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = ZERO + Math.floor(i / 10);
  PAIRS[2 * i + 1] = ZERO + (i % 10);
}

/** Exactly `width` (even, <= 8) digits of the integer `x` (0 <= x < 10^width), zeros first. */
function fixedDigits(m: Uint8Array, p: number, x: number, width: number): number {
  for (let i = p + width - 2; i >= p; i -= 2) {
    const q = Math.floor(x / 100);
    const r = 2 * (x - q * 100);
    m[i] = PAIRS[r]!;
    m[i + 1] = PAIRS[r + 1]!;
    x = q;
  }
  return p + width;
}

/** The digits of the integer `v` (0 <= v < 2^53), without leading zeros. */
function digits(m: Uint8Array, p: number, v: number): number {
  const s = String(v);
  for (let i = 0; i < s.length; i++) m[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/** The digits of u64 timestamps: `upper` then a fixed number of low digits; the upper digits change
 * rarely (every 0.1 s, or every ms past 2^53 ns), so their text is kept. As decimalOfHalves (text/u64-text.ts)
 * writes them. */
export class U64Digits {
  private upper = -1;
  private upperText = new Uint8Array(0);

  private upperDigits(m: Uint8Array, p: number, upper: number): number {
    if (upper !== this.upper) {
      this.upper = upper;
      this.upperText = Buffer.from(String(upper), "latin1");
    }
    const t = this.upperText;
    for (let i = 0; i < t.length; i++) m[p + i] = t[i]!;
    return p + t.length;
  }

  /** The decimal digits of the u64 `hi * 2^32 + lo` at `p`; returns the position after them. */
  write(m: Uint8Array, p: number, lo: number, hi: number): number {
    if (hi < 0x200000) {
      const v = hi * 0x100000000 + lo;
      if (v < 1e8) return digits(m, p, v);
      const upper = Math.floor(v / 1e8);
      return fixedDigits(m, this.upperDigits(m, p, upper), v - upper * 1e8, 8);
    }
    // 2^32 = 4294 * 10^6 + 967296: (hi * 4294 + carry) * 10^6 + the low six digits, each exact.
    const low = hi * 967296 + lo;
    const carry = Math.floor(low / 1e6);
    return fixedDigits(m, this.upperDigits(m, p, hi * 4294 + carry), low - carry * 1e6, 6);
  }
}

export class StreamLineBytes {
  private readonly encoded = new Map<string, Uint8Array>();
  /** `MODULE FUNCTION` as bytes by the function address's low half (its high half beside it): one lookup
   * per event instead of the name's and then its bytes'. */
  private readonly funcs = new Map<number, { hi: number; bytes: Uint8Array }>();
  /** `PACKET 0xSKB ` as bytes, for the last packet id and address (output/text/packet-prefix.ts). */
  private readonly prefix = new PacketPrefix((p, skb) => `${p} ${skb} `);
  private prefixText = "";
  private prefixBytes = new Uint8Array(0);
  private readonly ts = new U64Digits();

  constructor(private readonly lines: StreamLines) {}

  private bytes(s: string): Uint8Array {
    let b = this.encoded.get(s);
    if (b === undefined) {
      b = Buffer.from(s, "utf8");
      this.encoded.set(s, b);
    }
    return b;
  }

  /** The record's line at `b.pos`, as UTF-8 (no newline); `packet`: its packet id. */
  write(dv: DataView, off: number, packet: number, b: BlockBuilder): void {
    const text = this.prefix.get(dv, off, packet);
    if (text !== this.prefixText) {
      this.prefixText = text;
      this.prefixBytes = Buffer.from(text, "latin1");
    }
    const head = this.prefixBytes;
    const fLo = dv.getInt32(off + OFF_FUNC, true);
    const fHi = dv.getUint32(off + OFF_FUNC + HIGH_WORD, true);
    let f = this.funcs.get(fLo);
    if (f === undefined || f.hi !== fHi) {
      f = { hi: fHi, bytes: this.bytes(this.lines.func(dv, off)) };
      this.funcs.set(fLo, f);
    }
    const func = f.bytes;
    const v = this.lines.verdict(dv, off);
    // A verdict's text repeats (reason and place); a clone's names its parent, once: not kept.
    const verdict = v === "" ? undefined : parentHex(dv, off) ? Buffer.from(v, "utf8") : this.bytes(v);
    // The packet id and skb, 20 digits, 10 of the CPU, the function, the verdict, 3 spaces.
    b.ensure(head.length + 33 + func.length + (verdict?.length ?? 0));
    const m = b.mem;
    let p = b.pos;
    m.set(head, p);
    p += head.length;
    p = this.ts.write(
      m,
      p,
      dv.getUint32(off + OFF_TSTAMP, true),
      dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true),
    );
    m[p++] = SPACE;
    const cpu = dv.getUint32(off + OFF_CPU, true);
    if (cpu < 1000) {
      m[p++] = ZERO + Math.floor(cpu / 100);
      p = fixedDigits(m, p, cpu % 100, 2);
    } else p = digits(m, p, cpu);
    m[p++] = SPACE;
    m.set(func, p);
    p += func.length;
    if (verdict) {
      m[p++] = SPACE;
      m.set(verdict, p);
      p += verdict.length;
    }
    b.pos = p;
  }
}
