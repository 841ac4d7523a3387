// The first column of the text outputs (--time): the event's timestamp (bpf_ktime_get_ns, CLOCK_MONOTONIC)
// as nanoseconds since boot (ipftrace2's, the default), as seconds since the start of tracing
// (`relative`: `12.345678901`, nine decimals, exact), or as wall-clock time (`wall`: ISO 8601 in UTC with
// microseconds, `2026-12-04T22:30:20.123456Z`: UTC so that a trace reads the same on every host and in every
// time zone). The wall clock is the monotonic time plus one offset measured at the start (pcapng/clock.ts),
// or, for --read, the offset the file recorded.
import { HIGH_WORD, OFF_TSTAMP } from "../../record/record.js";
import { decimalOfHalves } from "../text/u64-text.js";

export const TIME_MODES = ["boot", "relative", "wall"] as const;
export type TimeMode = (typeof TIME_MODES)[number];

/** What the modes need beyond the timestamp. */
export interface TimeBase {
  /** The start of tracing on the records' clock (relative). */
  startNs: bigint;
  /** Wall clock minus the records' clock (wall, json's wall_time); measured on first use when a function. */
  offsetNs: bigint | (() => bigint);
}

const NS_PER_MS = 1_000_000;

export class TimeColumn {
  private offset: bigint | undefined;
  private offMs = 0;
  private offRem = 0;
  private readonly startLo: number;
  private readonly startHi: number;
  /** The ISO text of the last millisecond printed, without its `Z`. */
  private lastMs = Number.NaN;
  private lastIso = "";

  /** The column's width in the aggregate output (its texts may be shorter: relative). */
  get width(): number {
    return this.mode === "wall" ? 27 : 20;
  }

  constructor(
    readonly mode: TimeMode,
    private readonly base: TimeBase,
  ) {
    this.startLo = Number(base.startNs & 0xffffffffn);
    this.startHi = Number(base.startNs >> 32n);
  }

  /** The column's text for the record at `off`. */
  text(dv: DataView, off: number): string {
    const lo = dv.getUint32(off + OFF_TSTAMP, true);
    const hi = dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true);
    return this.ofHalves(lo, hi);
  }

  ofHalves(lo: number, hi: number): string {
    if (this.mode === "boot") return decimalOfHalves(lo, hi);
    if (this.mode === "relative") return secondsText((hi - this.startHi) * 0x100000000 + (lo - this.startLo));
    return this.wall(lo, hi);
  }

  /** ISO 8601 UTC with microseconds. */
  wall(lo: number, hi: number): string {
    if (this.offset === undefined) {
      const o = this.base.offsetNs;
      this.offset = typeof o === "bigint" ? o : o();
      this.offMs = Number(this.offset / 1_000_000n);
      this.offRem = Number(this.offset % 1_000_000n);
    }
    let ms: number;
    let rem: number;
    if (hi < 0x200000) {
      const ts = hi * 0x100000000 + lo;
      ms = Math.floor(ts / NS_PER_MS);
      rem = ts - ms * NS_PER_MS;
    } else {
      const ts = (BigInt(hi) << 32n) | BigInt(lo);
      ms = Number(ts / 1_000_000n);
      rem = Number(ts % 1_000_000n);
    }
    rem += this.offRem;
    ms += this.offMs + Math.floor(rem / NS_PER_MS);
    rem -= Math.floor(rem / NS_PER_MS) * NS_PER_MS;
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString().slice(0, -1);
    }
    return `${this.lastIso}${String(Math.floor(rem / 1000)).padStart(3, "0")}Z`;
  }
}

/** Nanoseconds as seconds with nine decimals (`-0.000001500` before the start). */
function secondsText(ns: number): string {
  const a = Math.abs(ns);
  const s = Math.floor(a / 1e9);
  return `${ns < 0 ? "-" : ""}${s}.${String(a - s * 1e9).padStart(9, "0")}`;
}
