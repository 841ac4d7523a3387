// From the kernel's clock to the wall clock. ipft's records carry bpf_ktime_get_ns(): CLOCK_MONOTONIC,
// nanoseconds since boot, not counting suspend. pcapng wants nanoseconds since the Unix epoch
// (CLOCK_REALTIME). Node's process.hrtime.bigint() is libuv's uv_hrtime(), CLOCK_MONOTONIC on Linux: the
// same clock as bpf_ktime_get_ns (test/pcapng/clock.test.ts checks it against the kernel's own
// "now at ... nsecs" in /proc/timer_list, which is ktime_get(), CLOCK_MONOTONIC).
//
// The offset realtime - monotonic is measured once, at the start: Date.now() only has milliseconds, so
// the measurement watches for the moment Date.now() turns to the next millisecond and reads the
// monotonic clock on both sides of that moment. The realtime at the turn is exactly N ms; the monotonic
// time is known to within half the bracket (a few hundred ns on this machine, reported as
// `uncertaintyNs`). A step of the wall clock during the trace (NTP, date -s) is not followed: every
// timestamp of one file uses the offset measured at its start, so their differences are exact.

export interface ClockOffset {
  /** realtime - monotonic, in nanoseconds. */
  offsetNs: bigint;
  /** Half the monotonic interval the millisecond turn was seen in. */
  uncertaintyNs: bigint;
}

/**
 * Measures realtime - monotonic at a millisecond turn of Date.now(): the best of `samples` turns, or of
 * more (up to `maxTurns`, a millisecond each) while the best is worse than 5 µs (a preempted read).
 */
export function measureClockOffset(samples = 3, maxTurns = 30): ClockOffset {
  let best: ClockOffset | undefined;
  let seen = 0;
  for (let turns = 0; turns < maxTurns; turns++) {
    if (seen >= samples && best && best.uncertaintyNs <= 5_000n) break;
    // `lo` is read before a Date.now() that still gave `start`, so the turn came after it; `hi` is read
    // after the first Date.now() that gave the next value, so the turn came before it.
    let lo = process.hrtime.bigint();
    const start = Date.now();
    let ms = start;
    let hi = lo;
    for (;;) {
      const h = process.hrtime.bigint();
      ms = Date.now();
      hi = process.hrtime.bigint();
      if (ms !== start) break;
      lo = h;
    }
    if (ms !== start + 1) continue; // preempted across more than a millisecond: the turn was not seen
    seen++;
    const mono = (lo + hi) / 2n;
    const offset: ClockOffset = {
      offsetNs: BigInt(ms) * 1_000_000n - mono,
      uncertaintyNs: (hi - lo + 1n) / 2n,
    };
    if (!best || offset.uncertaintyNs < best.uncertaintyNs) best = offset;
  }
  if (!best) {
    // A machine too loaded to see a turn: millisecond precision.
    const mono = process.hrtime.bigint();
    best = { offsetNs: BigInt(Date.now()) * 1_000_000n - mono, uncertaintyNs: 1_000_000n };
  }
  return best;
}

/** Turns bpf_ktime_get_ns() values into wall-clock nanoseconds with one offset. */
export class MonotonicClock {
  constructor(readonly offset: ClockOffset) {}

  static measure(): MonotonicClock {
    return new MonotonicClock(measureClockOffset());
  }

  toRealtime(monotonicNs: bigint): bigint {
    return monotonicNs + this.offset.offsetNs;
  }

  toMonotonic(realtimeNs: bigint): bigint {
    return realtimeNs - this.offset.offsetNs;
  }
}
