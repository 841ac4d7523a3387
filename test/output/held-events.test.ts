// The arena --drops holds events in: each packet's records come back whole and in order through growth,
// wrap-around, packing and letting go; the bounds hold, and a packet is let go only when a bound needs it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeldEvents, LET_GO_MEMORY, LET_GO_TABLE } from "../../src/output/held-events.js";

const held = (len: number) => (16 + len + 15) & ~15;

/** A record of `len` bytes whose every word says which step made it (and where in it). */
function record(step: number, len: number): DataView {
  const dv = new DataView(new ArrayBuffer(len + 8));
  for (let i = 0; i < len; i += 4) dv.setUint32(8 + i, step * 4096 + i, true);
  return dv;
}

function readBack(h: HeldEvents, e: number): number[][] {
  const out: number[][] = [];
  h.forEach(e, (dv, off) => {
    const words: number[] = [];
    // A record's length is not in it here: read words until the next step's pattern would start.
    const step = Math.floor(dv.getUint32(off, true) / 4096);
    for (let i = 0; ; i += 4) {
      if (off + i + 4 > dv.byteLength) break;
      const w = dv.getUint32(off + i, true);
      if (w !== step * 4096 + i) break;
      words.push(w);
    }
    out.push([step, 4 * words.length]);
  });
  return out;
}

/** Random holds and releases against a model, checked record by record after each step. */
function randomRun(MAX: number, PACKETS: number, ADDRS: number, steps: number): HeldEvents {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const h = new HeldEvents(MAX, PACKETS);
  // The model: skb address -> [step, length] of each held record.
  const model = new Map<number, [number, number][]>();
  let bytes = 0;
  const forget = (skb: number) => {
    for (const [, len] of model.get(skb) ?? []) bytes -= held(len);
    return model.delete(skb);
  };
  let incoming = 0;
  h.onLetGo = (_tLo, _tHi, sLo) => {
    // Only when a bound needs it: every entry in use, or three quarters of the bytes held.
    const total = h.letGo[LET_GO_MEMORY]! + h.letGo[LET_GO_TABLE]!;
    if (h.letGo[LET_GO_TABLE]! > tableSeen) {
      tableSeen = h.letGo[LET_GO_TABLE]!;
      assert.equal(model.size, PACKETS, "table let-go with a free entry");
    } else assert.ok(bytes + incoming > (3 * MAX) / 4, `memory let-go at ${bytes} bytes (${total})`);
    assert.ok(forget(sLo), "let go a packet not held");
  };
  let tableSeen = 0;
  for (let step = 1; step < steps; step++) {
    // ADDRS addresses and one long-lived (it pins the log's tail: packing must free around it).
    const skb = rnd(10) === 0 ? 0x1000 : 0x2000 + 0x100 * rnd(ADDRS);
    if (rnd(10) < 7) {
      const len = 8 * (16 + rnd(rnd(8) === 0 ? 560 : 40)); // 128 bytes to ~4.6 KiB
      incoming = held(len);
      const e = h.hold(record(step, len), 8, len, h.find(skb, 0), skb, 0, 0, 0);
      incoming = 0;
      assert.ok(e >= 0);
      const list = model.get(skb) ?? [];
      list.push([step, len]);
      model.set(skb, list);
      bytes += held(len);
    } else if (skb !== 0x1000 || rnd(50) === 0) {
      // The long-lived one is rarely released.
      const e = h.find(skb, 0);
      assert.equal(e >= 0, model.has(skb));
      if (e >= 0) {
        assert.deepEqual(readBack(h, e), model.get(skb), `step ${step}`);
        h.release(e);
        forget(skb);
      }
    }
    assert.equal(h.packets, model.size);
    assert.equal(h.bytes, bytes);
  }
  for (const [skb, list] of model) assert.deepEqual(readBack(h, h.find(skb, 0)), list);
  assert.ok(h.peakBytes <= MAX && h.capacity <= MAX);
  return h;
}

test("held records come back whole and in order through wrapping and packing; the table's bound holds", () => {
  const h = randomRun(1 << 20, 48, 64, 60_000);
  assert.ok(h.letGo[LET_GO_TABLE]! > 0, `${h.letGo}`);
});

test("held records come back whole through the arena's growth to its byte bound", () => {
  const h = randomRun(4 << 20, 1 << 16, 1 << 14, 40_000);
  assert.equal(h.capacity, 4 << 20);
  assert.ok(h.letGo[LET_GO_MEMORY]! > 0 && h.letGo[LET_GO_TABLE] === 0, `${h.letGo}`);
});

test("a long-held packet does not pin the arena: short-lived packets around it never force a let-go", () => {
  const h = new HeldEvents(1 << 20, 1024);
  const rec = record(1, 128);
  h.hold(rec, 8, 128, -1, 0x1000, 0, 0, 0);
  // 400,000 packets of 3 events, each released at once: 200 MiB through a 1 MiB arena.
  for (let i = 0; i < 400_000; i++) {
    const skb = 0x2000 + 0x100 * (i % 16);
    let e = -1;
    for (let k = 0; k < 3; k++) e = h.hold(rec, 8, 128, e, skb, 0, 0, 0);
    h.release(e);
  }
  assert.deepEqual(h.letGo, [0, 0]);
  assert.equal(h.packets, 1);
  assert.equal(h.bytes, held(128));
  assert.equal(readBack(h, h.find(0x1000, 0)).length, 1);
});
