// One pcapng block at a time built in a reused buffer: the header, the body, the options (padded to 4), the
// trailing length. The writer (writer.ts) decides which blocks; this file only lays them out.
import {
  OPT_CUSTOM_BIN,
  OPT_CUSTOM_BIN_NOCOPY,
  OPT_CUSTOM_STR,
  OPT_CUSTOM_STR_NOCOPY,
  OPT_ENDOFOPT,
} from "./format.js";

/** An option a caller adds as is: a code and its value (bytes, or a string written as UTF-8). */
export interface RawOption {
  code: number;
  value: Uint8Array | string;
}

/** A custom option (2988/2989, or the no-copy 19372/19373): an IANA Private Enterprise Number and data. */
export interface CustomOption {
  pen: number;
  data: Uint8Array | string;
  /** Tools that rewrite the file may drop it (19372/19373). Default false. */
  noCopy?: boolean;
}

const encoder = new TextEncoder();

/** Builds blocks in a reused buffer, one after another: header, body, options, trailing length; take()
 * hands over the whole blocks built since the last take(). A Node Buffer: strings are encoded straight
 * into it and bytes copied from other Buffers without a view. */
export class BlockBuilder {
  buf: Buffer = Buffer.alloc(4096);
  /** The same memory as a plain Uint8Array (its set() and subarray() cost less than a Buffer's). */
  mem = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** And as 32-bit words, for copies between 4-byte aligned places (blocks start at multiples of 4). */
  words = new Int32Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength >> 2);
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  /** Where the block being built starts. */
  private start = 0;
  private hasOptions = false;

  constructor(private readonly le: boolean) {}

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.mem = new Uint8Array(next.buffer, next.byteOffset, next.byteLength);
    this.words = new Int32Array(next.buffer, next.byteOffset, next.byteLength >> 2);
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  begin(type: number): void {
    this.pos = this.start;
    this.hasOptions = false;
    this.u32(type);
    this.u32(0); // total length, set by end()
  }

  u16(v: number): void {
    this.ensure(2);
    this.dv.setUint16(this.pos, v, this.le);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v >>> 0, this.le);
    this.pos += 4;
  }

  /** A 64-bit timestamp as pcapng lays it out: the high 32 bits first, then the low, each in file order. */
  ts64(v: bigint): void {
    this.u32(Number(v >> 32n));
    this.u32(Number(v & 0xffffffffn));
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.dv.setBigUint64(this.pos, v, this.le);
    this.pos += 8;
  }

  /** The u64 `hi * 2^32 + lo` in the file's byte order (no bigint). */
  u64Halves(lo: number, hi: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos + (this.le ? 0 : 4), lo, this.le);
    this.dv.setUint32(this.pos + (this.le ? 4 : 0), hi, this.le);
    this.pos += 8;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** `src[start..end)` as is. */
  /** Zeroes the last `n` bytes written. */
  zeroTail(n: number): void {
    if (n > 0) this.mem.fill(0, this.pos - n, this.pos);
  }

  copyFrom(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n <= 16) {
      // A few bytes: a loop costs less than the view set() needs.
      const m = this.mem;
      for (let i = 0, p = this.pos; i < n; i++) m[p + i] = src[start + i]!;
    } else this.mem.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** `src[start..start+n)`, 32-bit words, at `pos`, which must be a multiple of 4. */
  copyWords(src: Int32Array, start: number, n: number): void {
    this.ensure(4 * n);
    const w = this.words;
    let d = this.pos >> 2;
    for (let i = start, end = start + n; i < end; i++) w[d++] = src[i]!;
    this.pos += 4 * n;
  }

  /** A string as UTF-8 (no length, no padding). */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  /** Zero bytes up to the next multiple of 4. */
  pad(): void {
    const n = (4 - (this.pos & 3)) & 3;
    if (n === 0) return;
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = 0;
  }

  /** An option's code and a length set by optionEnd(); returns where the value starts. The caller writes
   * the value with the methods above, then calls optionEnd() with that start. */
  optionHeader(code: number): number {
    this.hasOptions = true;
    this.u16(code);
    this.u16(0);
    return this.pos;
  }

  /** Sets the length of the option whose value started at `start` and pads it to 4 bytes. */
  optionEnd(start: number): void {
    const len = this.pos - start;
    if (len > 0xffff) throw new RangeError(`pcapng option value too long (${len} bytes, at most 65535)`);
    this.dv.setUint16(start - 2, len, this.le);
    this.pad();
  }

  optString(code: number, s: string): void {
    const start = this.optionHeader(code);
    this.utf8(s);
    this.optionEnd(start);
  }

  optBytes(code: number, b: Uint8Array): void {
    const start = this.optionHeader(code);
    this.bytes(b);
    this.optionEnd(start);
  }

  optU8(code: number, v: number): void {
    const start = this.optionHeader(code);
    this.ensure(1);
    this.buf[this.pos++] = v;
    this.optionEnd(start);
  }

  optU32(code: number, v: number): void {
    const start = this.optionHeader(code);
    this.u32(v);
    this.optionEnd(start);
  }

  optU64(code: number, v: bigint): void {
    const start = this.optionHeader(code);
    this.u64(v);
    this.optionEnd(start);
  }

  optTs64(code: number, v: bigint): void {
    const start = this.optionHeader(code);
    this.ts64(v);
    this.optionEnd(start);
  }

  optCustom(c: CustomOption): void {
    const str = typeof c.data === "string";
    const code = str
      ? c.noCopy
        ? OPT_CUSTOM_STR_NOCOPY
        : OPT_CUSTOM_STR
      : c.noCopy
        ? OPT_CUSTOM_BIN_NOCOPY
        : OPT_CUSTOM_BIN;
    const start = this.optionHeader(code);
    this.u32(c.pen);
    this.bytes(typeof c.data === "string" ? encoder.encode(c.data) : c.data);
    this.optionEnd(start);
  }

  optRaw(o: RawOption): void {
    if (typeof o.value === "string") this.optString(o.code, o.value);
    else this.optBytes(o.code, o.value);
  }

  /** opt_endofopt when any option was written, the trailing length, and the length at the start: the
   * block is whole, the next begin() starts after it. */
  end(): void {
    if (this.hasOptions) {
      this.u16(OPT_ENDOFOPT);
      this.u16(0);
    }
    const total = this.pos - this.start + 4;
    this.u32(total);
    this.dv.setUint32(this.start + 4, total, this.le);
    this.start = this.pos;
  }

  /** Bytes of whole blocks built and not taken yet. */
  get pending(): number {
    return this.start;
  }

  /** The whole blocks built since the last take(), valid until the next begin(). A plain Uint8Array (a
   * sink may keep a copy with slice(), which on a Buffer would not copy). */
  take(): Uint8Array {
    const n = this.start;
    this.start = 0;
    this.pos = 0;
    return this.mem.subarray(0, n);
  }
}
