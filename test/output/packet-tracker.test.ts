// The packet tracker as its users (the summary, --drops) see it: what each event is to its packet, a place
// per packet for their own values, and the open packets it forgets at its bound.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PacketLedger } from "../../src/output/packet/ledger.js";
import { PACKET_AFTER, PACKET_NEW, PACKET_OPEN, PacketTracker } from "../../src/output/packet/tracker.js";
import { VerdictText } from "../../src/output/verdict-text.js";
import { VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import { type Ev, IP_RCV, namer, recordOffsets, records, run, symbolizer, TP, UDP_RCV } from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
const FREE = 0xffffffff81300000n;
const CONSUME = { kind: VERDICT_CONSUME, location: 0xffffffff81000abcn };

function feed(t: PacketTracker, evs: Ev[]): { id: number; state: number; place: number }[] {
  const dv = records(evs);
  return recordOffsets(evs).map((o) => {
    const id = t.of(dv, o);
    return { id, state: t.state, place: t.place };
  });
}

test("each event is new, open or after its packet's verdict; the next event at the key is a new packet", () => {
  const t = new PacketTracker();
  const got = feed(t, [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 2n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 3n, func: TP, cpu: 0, verdict: CONSUME },
    { skb: A, ts: 4n, func: FREE, cpu: 0, freeing: true },
    { skb: A, ts: 5n, func: UDP_RCV, cpu: 0, ret: true },
    { skb: A, ts: 6n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 7n, func: UDP_RCV, cpu: 0 },
  ]);
  assert.deepEqual(
    got.map((g) => [g.id, g.state]),
    [
      [1, PACKET_NEW],
      [2, PACKET_NEW],
      [1, PACKET_OPEN],
      [1, PACKET_AFTER],
      [1, PACKET_AFTER],
      [3, PACKET_NEW],
      [2, PACKET_OPEN],
    ],
  );
  // A packet keeps its place; the packets tracked at once have places of their own.
  assert.deepEqual(
    got.map((g) => g.place),
    [got[0]!.place, got[1]!.place, got[0]!.place, got[0]!.place, got[0]!.place, got[5]!.place, got[1]!.place],
  );
  assert.equal(new Set([got[0]!.place, got[1]!.place, got[5]!.place]).size, 3);
  assert.ok(got.every((g) => g.place < t.places));
  const open: number[] = [];
  t.forEachOpen((p) => open.push(p));
  assert.deepEqual(open.sort(), [got[1]!.place, got[5]!.place].sort(), "A's first packet ended");
});

test("at its bound the tracker forgets the packet first seen longest ago, telling its user if it was open", () => {
  const t = new PacketTracker(2);
  const forgot: number[] = [];
  t.onForget = (p) => forgot.push(p);
  const got = feed(t, [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 2n, func: TP, cpu: 0, verdict: CONSUME }, // A ends
    { skb: B, ts: 3n, func: IP_RCV, cpu: 0 },
    { skb: A + 256n, ts: 4n, func: IP_RCV, cpu: 0 }, // A (ended) is forgotten: not told
    { skb: A + 512n, ts: 5n, func: IP_RCV, cpu: 0 }, // B (open) is forgotten: told, with B's place
  ]);
  assert.deepEqual(forgot, [got[2]!.place]);
  // Places stay below `places` as they are reused.
  for (let i = 0n; i < 100n; i++) feed(t, [{ skb: B + i * 256n, ts: 10n + i, func: IP_RCV, cpu: 0 }]);
  assert.ok(t.place < t.places);
  assert.equal(forgot.length, 101, "each new packet forgot an open one");
});

test("the summary does not count an event that would continue an unknown packet: the next one at its key is counted", () => {
  const ledger = new PacketLedger(new VerdictText(namer));
  const evs: Ev[] = [
    { skb: A, ts: 1n, func: FREE, cpu: 0, freeing: true }, // its packet was never seen
    { skb: A, ts: 2n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 3n, func: UDP_RCV, cpu: 0, ret: true },
  ];
  const dv = records(evs);
  for (const o of recordOffsets(evs)) ledger.event(dv, o);
  assert.deepEqual(ledger.summary(symbolizer), [
    "1 packet: 0 dropped, 0 consumed, 0 delivered, 1 without a verdict",
    "1 without a verdict, last seen at: udp_rcv (1)",
  ]);
});

test("the summary and --drops read the numbering tracker as they would track on their own", () => {
  const DROP = { kind: VERDICT_DROP, reason: 2, location: 0n };
  // Reused addresses, verdicts, free paths and returns after them, a drop then a consume at one address.
  const evs: Ev[] = [];
  for (let i = 0; i < 40; i++) {
    const skb = [A, B][i % 2]!;
    const ts = BigInt(10 * i);
    evs.push({ skb, ts, func: IP_RCV, cpu: 0 });
    if (i % 3 === 0) evs.push({ skb, ts: ts + 1n, func: UDP_RCV, cpu: 0, ret: true });
    evs.push({ skb, ts: ts + 2n, func: TP, cpu: 0, verdict: i % 4 ? DROP : CONSUME });
    if (i % 5 === 0) evs.push({ skb, ts: ts + 3n, func: TP, cpu: 0, verdict: CONSUME });
    evs.push({ skb, ts: ts + 4n, func: FREE, cpu: 0, freeing: true });
  }
  for (const track of [false, true]) {
    const e = track ? evs.map((x, i) => ({ ...x, track: BigInt(1 + Math.floor(i / 7)) })) : evs;
    for (const kind of ["aggregate", "stream", "json"] as const)
      for (const o of [{ verdicts: true }, { dropsOnly: true }]) {
        const own = run(kind, e, o);
        const shared = run(kind, e, { ...o, shareTracker: true });
        assert.equal(shared.out, own.out);
        assert.deepEqual(shared.w.summary(), own.w.summary());
        assert.ok(own.w.summary()[0]!.includes("dropped"), own.w.summary()[0]);
      }
  }
});
