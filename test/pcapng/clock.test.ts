// The clock converter: the measured realtime - monotonic offset is precise to well under a millisecond.
// That node's hrtime is the kernel's CLOCK_MONOTONIC is checked in test/host/clock.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MonotonicClock, measureClockOffset } from "../../src/pcapng/clock.js";

test("the offset is found at a millisecond turn, to within microseconds", () => {
  const a = measureClockOffset();
  const b = measureClockOffset();
  assert.ok(a.uncertaintyNs < 200_000n, `uncertainty ${a.uncertaintyNs} ns`);
  // Two measurements agree to within their uncertainties (and a little for a slewing clock).
  const diff = a.offsetNs > b.offsetNs ? a.offsetNs - b.offsetNs : b.offsetNs - a.offsetNs;
  assert.ok(diff <= a.uncertaintyNs + b.uncertaintyNs + 20_000n, `offsets differ by ${diff} ns`);
  // And agree with the coarse Date.now() to within its millisecond.
  const clock = new MonotonicClock(a);
  // Date.now() read between two monotonic reads: its millisecond lies between their wall-clock times.
  const m0 = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1_000_000n;
  const m1 = process.hrtime.bigint();
  const lo = clock.toRealtime(m0) - a.uncertaintyNs;
  const hi = clock.toRealtime(m1) + a.uncertaintyNs;
  assert.ok(wall >= lo - 1_000_000n && wall <= hi, `Date.now() ${wall} in [${lo} - 1 ms, ${hi}]`);
  assert.equal(clock.toMonotonic(clock.toRealtime(m0)), m0);
});
