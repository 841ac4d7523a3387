import assert from "node:assert/strict";
import { test } from "node:test";
import { PacketTable } from "../../src/output/packet/table.js";

test("the packet table agrees with a Map through random adds, updates and removals", () => {
  // Small table, clustered keys (aligned addresses sharing high halves): long probe runs, many shifts.
  const t = new PacketTable(64);
  const ref = new Map<string, [number, number]>();
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let step = 0; step < 200_000; step++) {
    const lo = (rnd(96) * 256) | 0;
    const hi = 0xffff8881 + rnd(2);
    const key = `${lo}:${hi}`;
    const slot = t.find(lo, hi);
    assert.equal(slot >= 0, ref.has(key), `step ${step}: ${key}`);
    if (slot >= 0) {
      assert.deepEqual([t.a(slot), t.b(slot)], ref.get(key));
      if (rnd(2) === 0) {
        t.remove(slot);
        ref.delete(key);
      } else {
        t.set(slot, step, step + 1);
        ref.set(key, [step, step + 1]);
      }
    } else if (ref.size < 64) {
      t.add(lo, hi, step, 7);
      ref.set(key, [step, 7]);
    }
    assert.equal(t.size, ref.size);
  }
  const funcs: number[] = [];
  t.forEachValue((lo) => funcs.push(lo));
  assert.deepEqual(funcs.sort(), [...ref.values()].map((v) => v[0]).sort());
});
