import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentKeys } from "../../src/output/packet/recent-keys.js";

test("recent keys: bounded, the oldest forgotten first; a deleted key is gone", () => {
  const k = new RecentKeys(3);
  for (const lo of [1, 2, 3]) k.add(lo, 0xffff8881);
  assert.ok(k.has(1, 0xffff8881) && k.has(3, 0xffff8881));
  assert.ok(!k.has(1, 0xffff8882), "both halves count");
  k.add(4, 0xffff8881); // a fourth: 1 goes
  assert.deepEqual(
    [1, 2, 3, 4].map((lo) => k.has(lo, 0xffff8881)),
    [false, true, true, true],
  );
  k.delete(3, 0xffff8881);
  assert.ok(!k.has(3, 0xffff8881));
  k.add(2, 0xffff8881); // already there: nothing moves
  for (let lo = 5; lo < 1000; lo++) k.add(lo, 0xffff8881);
  assert.deepEqual(
    [996, 997, 998, 999, 2].map((lo) => k.has(lo, 0xffff8881)),
    [false, true, true, true, false],
  );
});
