// Traces kept for aggregate output: the record's first 32 bytes (skb, timestamp, function, cpu, flags) and
// the packet id (output/packet/tracker.ts) as nine little-endian 32-bit words, plus the 64 data bytes only when a script will dump them.
// Chunked typed arrays: no object per trace, and no large reallocation as the store grows. Verdicts and
// stacks (--stack) are kept aside, by trace index: few traces have them.
import {
  DATA_SIZE,
  FLAG_CLONE,
  HEAD_SIZE,
  OFF_CPU,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_LOCATION,
  OFF_SKB,
  OFF_TSTAMP,
  readHeadWord,
} from "../record/record.js";
import type { VerdictFields } from "./verdict-text.js";

const SHIFT = 16;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
const HEAD_WORDS = HEAD_SIZE / 4;
/** The head, then the packet id. */
const WORDS = HEAD_WORDS + 1;

/** Word indices within a stored head. */
export const W_SKB_LO = OFF_SKB / 4;
export const W_SKB_HI = W_SKB_LO + 1;
export const W_TS_LO = OFF_TSTAMP / 4;
export const W_TS_HI = W_TS_LO + 1;
export const W_FUNC_LO = OFF_FUNC / 4;
export const W_FUNC_HI = W_FUNC_LO + 1;
export const W_CPU = OFF_CPU / 4;
export const W_FLAGS = OFF_FLAGS / 4;
export const W_PACKET = HEAD_WORDS;

/** Set in a stored flags word when the trace carries a verdict (kept aside: few traces do). */
export const STORED_VERDICT = 0x80000000;
/** Set in a stored flags word when the trace carries a kernel stack (kept aside too). */
export const STORED_STACK = 0x40000000;

export class TraceStore {
  private readonly heads: Uint32Array[] = [];
  private readonly datas: Uint8Array[] = [];
  /** Verdicts by trace index (ascending), as parallel arrays. */
  private readonly verdictIdx: number[] = [];
  private readonly verdicts: VerdictFields[] = [];
  /** Stacks by trace index (ascending), as parallel arrays. */
  private readonly stackIdx: number[] = [];
  private readonly stacks: BigUint64Array[] = [];
  /** Clone events' parents (record.ts FLAG_CLONE) by trace index (ascending), as parallel arrays. */
  private readonly parentIdx: number[] = [];
  private readonly parents: bigint[] = [];
  length = 0;

  constructor(readonly withData: boolean) {}

  /** `packet`: its packet id; `verdict`: the trace's verdict, when it has one; `stack`: its return
   * addresses, when it has some. */
  push(dv: DataView, off: number, packet: number, verdict?: VerdictFields, stack?: BigUint64Array): void {
    const i = this.length & MASK;
    if (i === 0) {
      this.heads.push(new Uint32Array(CHUNK * WORDS));
      if (this.withData) this.datas.push(new Uint8Array(CHUNK * DATA_SIZE));
    }
    const h = this.heads[this.heads.length - 1]!;
    const p = i * WORDS;
    for (let k = 0; k < HEAD_WORDS; k++) h[p + k] = readHeadWord(dv, off, k);
    h[p + W_PACKET] = packet;
    if (verdict) {
      h[p + W_FLAGS] = (h[p + W_FLAGS]! | STORED_VERDICT) >>> 0;
      this.verdictIdx.push(this.length);
      this.verdicts.push(verdict);
    }
    if (h[p + W_FLAGS]! & FLAG_CLONE) {
      this.parentIdx.push(this.length);
      this.parents.push(dv.getBigUint64(off + OFF_LOCATION, true));
    }
    if (stack) {
      h[p + W_FLAGS] = (h[p + W_FLAGS]! | STORED_STACK) >>> 0;
      this.stackIdx.push(this.length);
      this.stacks.push(stack);
    }
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

  hasVerdict(n: number): boolean {
    return (this.word(n, W_FLAGS) & STORED_VERDICT) !== 0;
  }

  /** Trace n's verdict, when it has one. */
  verdict(n: number): VerdictFields | undefined {
    if (!this.hasVerdict(n)) return undefined;
    return aside(this.verdictIdx, this.verdicts, n);
  }

  /** Trace n's stack, when it has one. */
  stack(n: number): BigUint64Array | undefined {
    if ((this.word(n, W_FLAGS) & STORED_STACK) === 0) return undefined;
    return aside(this.stackIdx, this.stacks, n);
  }

  /** The clone events: trace indices (ascending) and their parents' addresses. */
  get clones(): { idx: readonly number[]; parents: readonly bigint[] } {
    return { idx: this.parentIdx, parents: this.parents };
  }

  /** Trace n's 64 data bytes, copied to dst at dstOff. */
  copyData(n: number, dst: Uint8Array, dstOff: number): void {
    const c = this.datas[n >>> SHIFT]!;
    const p = (n & MASK) * DATA_SIZE;
    dst.set(c.subarray(p, p + DATA_SIZE), dstOff);
  }

  /** Bytes held (whole chunks), for the memory benchmark. */
  get bytes(): number {
    return (
      this.heads.length * CHUNK * WORDS * 4 +
      this.datas.length * CHUNK * DATA_SIZE +
      this.verdicts.length * 48 +
      this.stacks.reduce((sum, s) => sum + s.byteLength + 80, 0)
    );
  }
}

/** The value kept aside for trace n: `idx` is ascending, `values` parallel to it. */
function aside<T>(idx: number[], values: T[], n: number): T | undefined {
  let lo = 0;
  let hi = idx.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = idx[mid]!;
    if (v === n) return values[mid];
    if (v < n) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
