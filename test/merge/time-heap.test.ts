// The journey window's heap of live groups (src/merge/time-heap.ts): items leave earliest first.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TimeHeap } from "../../src/merge/time-heap.js";

test("items leave by their times, the earliest first, however they were put in", () => {
  const h = new TimeHeap<number>();
  let seed = 11;
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    times.push(seed % 1000);
    h.push(i, BigInt(seed % 1000));
    if (i % 7 === 0) {
      // take one out now and then, as the window does
      const t = h.peekTime()!;
      const min = Math.min(...times);
      assert.equal(t, BigInt(min));
      const item = h.pop()!;
      assert.equal(times[item], min);
      times[item] = Number.POSITIVE_INFINITY;
    }
  }
  const left: number[] = [];
  for (let t = h.peekTime(); t !== undefined; t = h.peekTime()) {
    left.push(Number(t));
    h.pop();
  }
  assert.deepEqual(
    left,
    times.filter((t) => t !== Number.POSITIVE_INFINITY).sort((a, b) => a - b),
  );
  assert.equal(h.length, 0);
});
