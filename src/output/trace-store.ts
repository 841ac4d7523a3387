// Traces kept for aggregate output: the record's first 32 bytes (skb, timestamp, function, cpu, flags) as
// eight little-endian 32-bit words, plus the 64 data bytes only when a script will dump them. Chunked typed
// arrays: no object per trace, and no large reallocation as the store grows.
import {
  DATA_SIZE,
  HEAD_SIZE,
  OFF_CPU,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_SKB,
  OFF_TSTAMP,
} from "../record/record.js";

const SHIFT = 16;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
const WORDS = HEAD_SIZE / 4;

/** Word indices within a stored head. */
export const W_SKB_LO = OFF_SKB / 4;
export const W_SKB_HI = W_SKB_LO + 1;
export const W_TS_LO = OFF_TSTAMP / 4;
export const W_TS_HI = W_TS_LO + 1;
export const W_FUNC_LO = OFF_FUNC / 4;
export const W_FUNC_HI = W_FUNC_LO + 1;
export const W_CPU = OFF_CPU / 4;
export const W_FLAGS = OFF_FLAGS / 4;

export class TraceStore {
  private readonly heads: Uint32Array[] = [];
  private readonly datas: Uint8Array[] = [];
  length = 0;

  constructor(readonly withData: boolean) {}

  push(dv: DataView, off: number): void {
    const i = this.length & MASK;
    if (i === 0) {
      this.heads.push(new Uint32Array(CHUNK * WORDS));
      if (this.withData) this.datas.push(new Uint8Array(CHUNK * DATA_SIZE));
    }
    const h = this.heads[this.heads.length - 1]!;
    const p = i * WORDS;
    for (let k = 0; k < WORDS; k++) h[p + k] = dv.getUint32(off + 4 * k, true);
    if (this.withData) {
      this.datas[this.datas.length - 1]!.set(
        new Uint8Array(dv.buffer, dv.byteOffset + off + OFF_DATA, DATA_SIZE),
        i * DATA_SIZE,
      );
    }
    this.length++;
  }

  /** Word `w` (W_*) of trace n. */
  word(n: number, w: number): number {
    return this.heads[n >>> SHIFT]![(n & MASK) * WORDS + w]!;
  }

  /** Trace n's 64 data bytes, copied to dst at dstOff. */
  copyData(n: number, dst: Uint8Array, dstOff: number): void {
    const c = this.datas[n >>> SHIFT]!;
    const p = (n & MASK) * DATA_SIZE;
    dst.set(c.subarray(p, p + DATA_SIZE), dstOff);
  }

  /** Bytes held (whole chunks), for the memory benchmark. */
  get bytes(): number {
    return this.heads.length * CHUNK * HEAD_SIZE + this.datas.length * CHUNK * DATA_SIZE;
  }
}
