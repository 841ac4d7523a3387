// Where packets spend their time, for the summary: per step between two consecutive attach points of a
// packet (`ip_rcv -> ip_local_deliver`), how often it was taken, its maximum and its median. Memory is
// bounded: each packet's last event (function and timestamp) is kept by packet id in a ring as large as the
// tracker's bound on open packets (tracker.ts MAX_TRACKED), and each step's times in a log-linear
// histogram (16 buckets per power of two: the median is within 1/32 of the true one, about 3%; the maximum
// is exact), at most MAX_STEPS steps (the rest are counted apart). A function_graph return is no attach
// point: it is skipped. Events of a packet that arrive out of time order (from two CPUs) make no step.
import { FLAG_RETURN, HIGH_WORD, OFF_FLAGS, OFF_FUNC, OFF_TSTAMP } from "../../record/record.js";
import { diffOfHalves, elapsedText } from "../time/elapsed-text.js";
import type { Symbolizer } from "../types.js";
import { UNKNOWN } from "../types.js";
import { MAX_TRACKED } from "./tracker.js";

/** Distinct steps kept at most. */
export const MAX_STEPS = 4096;
/** Sub-buckets per power of two. */
const SUB = 16;
const SUB_BITS = 4;
/** Buckets: exact below SUB ns, then SUB per power of two up to 2^48 ns (3 days); more is clamped. */
const BUCKETS = SUB + (48 - SUB_BITS) * SUB;

/** The histogram bucket of `ns` (>= 0). */
export function bucketOf(ns: number): number {
  if (ns < SUB) return ns;
  let e: number;
  if (ns < 0x100000000) e = 31 - Math.clz32(ns);
  else {
    e = Math.floor(Math.log2(ns));
    // log2 of a value next to a power of two can round the wrong way
    if (2 ** e > ns) e--;
    else if (2 ** (e + 1) <= ns) e++;
  }
  const sub = Math.floor(ns / 2 ** (e - SUB_BITS)) - SUB;
  return Math.min(BUCKETS - 1, SUB + (e - SUB_BITS) * SUB + sub);
}

/** The middle of bucket `b`'s range. */
export function bucketMiddle(b: number): number {
  if (b < SUB) return b;
  const e = Math.floor((b - SUB) / SUB) + SUB_BITS;
  const width = 2 ** (e - SUB_BITS);
  return (SUB + ((b - SUB) % SUB)) * width + Math.floor(width / 2);
}

interface Step {
  fromLo: number;
  fromHi: number;
  toLo: number;
  toHi: number;
  n: number;
  max: number;
  hist: Uint32Array;
}

export interface SlowStep {
  from: string;
  to: string;
  n: number;
  medianNs: number;
  maxNs: number;
}

export class StepTimes {
  private readonly ids: Float64Array;
  private readonly tsLo: Uint32Array;
  private readonly tsHi: Uint32Array;
  private readonly fnLo: Uint32Array;
  private readonly fnHi: Uint32Array;
  private readonly steps = new Map<number, Step[]>();
  private count = 0;
  /** Steps taken that were not kept (past MAX_STEPS distinct ones). */
  notKept = 0;

  constructor(
    private readonly size = MAX_TRACKED,
    private readonly maxSteps = MAX_STEPS,
  ) {
    this.ids = new Float64Array(size);
    this.tsLo = new Uint32Array(size);
    this.tsHi = new Uint32Array(size);
    this.fnLo = new Uint32Array(size);
    this.fnHi = new Uint32Array(size);
  }

  /** One event of packet `packet`, in the order events come. */
  event(dv: DataView, off: number, packet: number): void {
    if (dv.getUint32(off + OFF_FLAGS, true) & FLAG_RETURN) return;
    const lo = dv.getUint32(off + OFF_TSTAMP, true);
    const hi = dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true);
    const fLo = dv.getUint32(off + OFF_FUNC, true);
    const fHi = dv.getUint32(off + OFF_FUNC + HIGH_WORD, true);
    const at = packet % this.size;
    if (this.ids[at] === packet) {
      const ns = diffOfHalves(lo, hi, this.tsLo[at]!, this.tsHi[at]!);
      if (ns >= 0) this.add(this.fnLo[at]!, this.fnHi[at]!, fLo, fHi, ns);
    } else this.ids[at] = packet;
    this.tsLo[at] = lo;
    this.tsHi[at] = hi;
    this.fnLo[at] = fLo;
    this.fnHi[at] = fHi;
  }

  private add(fromLo: number, fromHi: number, toLo: number, toHi: number, ns: number): void {
    const key = (fromLo ^ Math.imul(toLo, 0x9e3779b1)) | 0;
    const list = this.steps.get(key);
    let s: Step | undefined;
    if (list)
      for (const x of list)
        if (x.fromLo === fromLo && x.toLo === toLo && x.fromHi === fromHi && x.toHi === toHi) {
          s = x;
          break;
        }
    if (s === undefined) {
      if (this.count >= this.maxSteps) {
        this.notKept++;
        return;
      }
      this.count++;
      s = { fromLo, fromHi, toLo, toHi, n: 0, max: 0, hist: new Uint32Array(BUCKETS) };
      if (list) list.push(s);
      else this.steps.set(key, [s]);
    }
    s.n++;
    if (ns > s.max) s.max = ns;
    s.hist[bucketOf(ns)]!++;
  }

  /** The `top` slowest steps by median (then by maximum), named. */
  slowest(symbolizer: Symbolizer, top = 3): SlowStep[] {
    const all: { s: Step; median: number }[] = [];
    for (const list of this.steps.values()) for (const s of list) all.push({ s, median: median(s) });
    all.sort((a, b) => b.median - a.median || b.s.max - a.s.max);
    const name = (lo: number, hi: number) =>
      (symbolizer.resolve((BigInt(hi) << 32n) | BigInt(lo)) ?? UNKNOWN).name;
    return all.slice(0, top).map(({ s, median }) => ({
      from: name(s.fromLo, s.fromHi),
      to: name(s.toLo, s.toHi),
      n: s.n,
      medianNs: median,
      maxNs: s.max,
    }));
  }

  /** The summary's lines: `slowest steps (median, max):` then one line per step, or none without steps. */
  summary(symbolizer: Symbolizer, top = 3): string[] {
    const slow = this.slowest(symbolizer, top);
    if (slow.length === 0) return [];
    return [
      "slowest steps between consecutive attach points:",
      ...slow.map(
        (s) =>
          `  ${s.from} -> ${s.to}: median ${elapsedText(s.medianNs, false)}, max ${elapsedText(s.maxNs, false)} over ${s.n} ${s.n === 1 ? "pass" : "passes"}`,
      ),
    ];
  }
}

/** The step's median: the middle of the bucket holding the middle value, not above the maximum. */
function median(s: Step): number {
  const half = Math.ceil(s.n / 2);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += s.hist[b]!;
    if (seen >= half) return Math.min(bucketMiddle(b), s.max);
  }
  return s.max;
}
