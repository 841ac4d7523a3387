// The streaming merge's matcher (src/merge/journeys.ts): events go out in the order they came, once their
// packet is decided (a window after its signature's last event, or at the end), and are then let go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Journey, JourneyWindow } from "../../src/merge/journeys.js";

const W = 1000n;

/** A window whose emitted events are listed as `name@journey` (journeys numbered as first emitted). */
function window() {
  const out: string[] = [];
  const ids = new Map<Journey, number>();
  const w = new JourneyWindow<string>(W, (name, j) => {
    if (!ids.has(j)) ids.set(j, ids.size + 1);
    out.push(`${name}@${ids.get(j)}`);
  });
  const journeyOf = (name: string) => out.find((o) => o.startsWith(`${name}@`))?.split("@")[1];
  const add = (
    file: number,
    packetId: number,
    ts: number,
    sig: string | undefined,
    name: string,
    failedDrop = false,
  ) => w.add({ file, packetId, ts: BigInt(ts), sig, failedDrop, item: name });
  return { w, out, add, ids, journeyOf };
}

test("a packet whose events come from three files interleaved is one journey, held until its window passed", () => {
  const { w, out, add, ids } = window();
  add(0, 7, 100, "S", "c1");
  add(1, 3, 150, undefined, "r0"); // no bytes yet: its signature comes with its next event
  add(0, 7, 160, "S", "c2");
  add(1, 3, 170, "S", "r1");
  add(2, 9, 200, "S", "s1");
  add(1, 3, 210, "S", "r2");
  add(2, 9, 300, "S", "s2", true);
  assert.deepEqual(out, [], "nothing is written while the packet may still have events");
  assert.equal(w.held, 7);
  add(0, 8, 1200, "T", "other"); // 900 after the last: within the window
  assert.deepEqual(out, []);
  add(0, 8, 1301, "T", "other2"); // past it: the first packet is decided
  assert.deepEqual(out, ["c1@1", "r0@1", "c2@1", "r1@1", "s1@1", "r2@1", "s2@1"]);
  assert.equal(w.held, 2, "the decided packet's events are let go");
  const j = [...ids.keys()][0]!;
  assert.equal(j.endFile, 2, "it ends on the machine of its latest event");
  assert.equal(j.dropped, true, "which dropped it");
  w.finish();
  assert.deepEqual(out.slice(7), ["other@2", "other2@2"]);
  assert.equal(w.journeys, 2);
  assert.equal(w.held, 0);
});

test("events leave in their order: a later packet decided first waits for the earlier one", () => {
  const { w, out, add } = window();
  add(0, 1, 0, "A", "a1");
  add(0, 2, 10, undefined, "b1"); // no signature: alone
  add(0, 1, 900, "A", "a2"); // A goes on
  add(1, 5, 1500, "C", "c1"); // b is past its window, A not
  assert.deepEqual(out, [], "b1 waits behind a1");
  add(1, 5, 1901, "C", "c2");
  assert.deepEqual(out, ["a1@1", "b1@2", "a2@1"]);
  w.finish();
  assert.deepEqual(out.slice(3), ["c1@3", "c2@3"]);
});

test("a packet never finished (no verdict, no further event) is decided after its window, or at the end", () => {
  const { w, out, add, journeyOf } = window();
  add(0, 1, 0, "A", "a1");
  add(1, 4, 5, "A", "a2");
  w.finish();
  assert.deepEqual(out, ["a1@1", "a2@1"]);
  assert.equal(journeyOf("a1"), journeyOf("a2"));
  // The same packet id after the window: its file's packet was let go, this is another one.
  const x = window();
  x.add(0, 1, 0, "A", "first");
  x.add(0, 1, 5000, "A", "again");
  x.w.finish();
  assert.deepEqual(x.out, ["first@1", "again@2"]);
});

test("a signature two packets of one file carry is ambiguous: kept apart, counted; far apart copies are not", () => {
  const { w, out, add } = window();
  add(0, 1, 0, "S", "client");
  add(1, 1, 10, "S", "router-a");
  add(1, 2, 20, "S", "router-b"); // a clone with the same bytes
  add(2, 1, 30, "T", "server-t");
  add(1, 3, 40, "T", "router-t");
  w.finish();
  assert.deepEqual(out, ["client@1", "router-a@2", "router-b@3", "server-t@4", "router-t@4"]);
  assert.equal(w.ambiguous, 2, "the router's two; the client's one is then alone, not counted");
  assert.equal(w.journeys, 4);
  // A resend of the same bytes a window later is a packet of its own, matched on its own.
  const r = window();
  r.add(0, 1, 0, "S", "c-first");
  r.add(1, 1, 10, "S", "r-first");
  r.add(0, 2, 5000, "S", "c-resent");
  r.add(1, 2, 5010, "S", "r-resent");
  r.w.finish();
  assert.deepEqual(r.out, ["c-first@1", "r-first@1", "c-resent@2", "r-resent@2"]);
  assert.equal(r.w.ambiguous, 0);
});

test("a file's packet id that starts another packet (other bytes) is split there", () => {
  const { w, out, add } = window();
  add(0, 1, 0, "S", "s1");
  add(0, 1, 10, "T", "t1"); // --no-track: one skb address, the next packet
  add(1, 1, 20, "T", "t2");
  w.finish();
  assert.deepEqual(out, ["s1@1", "t1@2", "t2@2"]);
});

test("a signature quiet for a window takes no more copies, even when its turn to be decided has not come", () => {
  const { w, out, add } = window();
  add(0, 1, 0, "A", "a1");
  add(0, 1, 900, "A", "a2"); // A last seen at 900
  add(1, 5, 950, "B", "b1");
  add(2, 7, 1001, "C", "c1"); // A is looked at (not quiet yet) and goes behind B
  add(1, 6, 1925, "A", "resend"); // 1025 after A's last event: another packet
  w.finish();
  assert.deepEqual(out, ["a1@1", "a2@1", "b1@2", "c1@3", "resend@4"]);
});
