// Clone events in the writers: the clone's first event names its parent (stream: `clone of 0x...`, json:
// "parent", aggregate: the parent's address and packet id), and the clone is its own packet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { VERDICT_CONSUME } from "../../src/record/record.js";
import { type Ev, IP_RCV, run, TP, UDP_RCV } from "./records.js";

const P = 0xffff888100001000n; // the parent
const C = 0xffff888100002000n; // its clone
const Q = 0xffff888100003000n; // another packet
const CLONE_FN = UDP_RCV; // stands for skb_clone

// P is traced, cloned into C (C's clone event), both go on; C's verdict ends it; Q is unrelated.
const EVENTS: Ev[] = [
  { skb: Q, ts: 90n, func: IP_RCV, cpu: 1, track: 90n },
  { skb: P, ts: 100n, func: IP_RCV, cpu: 0, track: 99n },
  { skb: C, ts: 110n, func: CLONE_FN, cpu: 0, track: 109n, parent: P },
  { skb: P, ts: 120n, func: UDP_RCV, cpu: 0, track: 99n },
  { skb: C, ts: 130n, func: IP_RCV, cpu: 0, track: 109n },
  { skb: C, ts: 140n, func: TP, cpu: 0, track: 109n, verdict: { kind: VERDICT_CONSUME, location: 0n } },
];

test("stream: a clone event ends with `clone of 0x<parent>`; other events do not", () => {
  const lines = run("stream", EVENTS).out.trimEnd().split("\n");
  assert.equal(lines[2], `3 0x${C.toString(16)} 110 000 vmlinux udp_rcv clone of 0x${P.toString(16)}`);
  assert.equal(lines.filter((l) => l.includes("clone of")).length, 1);
});

test('json: a clone event has "parent", the parent\'s skb; other events have no such key', () => {
  const evs = run("json", EVENTS)
    .out.trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(evs[2]!.parent, `0x${P.toString(16)}`);
  assert.equal(evs[2]!.is_return, false);
  assert.equal(evs.filter((e) => "parent" in e).length, 1);
  assert.equal(evs[1]!.skb, evs[2]!.parent);
  assert.deepEqual(
    evs.map((e) => e.packet_id),
    [1, 2, 3, 2, 3, 3],
  );
});

test("aggregate: the clone is its own packet, starting at its clone event, which names the parent's group", () => {
  const out = run("aggregate", EVENTS, { verdicts: true }).out;
  const groups = out.split(/^=== packet \d+, skb 0x[0-9a-f]+\n/m).slice(1);
  assert.equal(groups.length, 3, out);
  // Packets by first event: Q (90), P (100), C (110).
  assert.match(groups[1]!, /^100 /);
  assert.match(groups[2]!, /^110 .* udp_rcv clone of 0xffff888100001000, packet 2\n/);
  assert.match(out, /^=== packet 2, skb 0xffff888100001000\n100 /m);
  assert.match(groups[2]!, /\n130 .*\n140 /);
  assert.doesNotMatch(groups[1]! + groups[0]!, /clone of/);
});

test("aggregate: a parent not among the stored traces is named by its address only", () => {
  const out = run("aggregate", EVENTS.slice(2)).out;
  assert.match(out, / clone of 0xffff888100001000\n/);
});
