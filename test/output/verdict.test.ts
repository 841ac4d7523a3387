// Verdicts in the writers: how a packet ends in each format, packets split where the kernel reused an
// address, the summary, and --drops.
import assert from "node:assert/strict";
import { test } from "node:test";
import { explainDrop } from "../../src/explain/explanation.js";
import { DropsOnly } from "../../src/output/drops-only.js";
import type { Writer } from "../../src/output/index.js";
import { PacketLedger } from "../../src/output/packet/ledger.js";
import { PacketTracker } from "../../src/output/packet/tracker.js";
import { VerdictText } from "../../src/output/verdict-text.js";
import { VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import {
  COPY_FN,
  COPY_TP,
  type Ev,
  IP_RCV,
  namer,
  recordOffsets,
  records,
  run,
  symbolizer,
  TP,
  UDP_CAUSE,
  UDP_LIB_RCV,
  UDP_RCV,
  UDP_WHY,
  UDP_WHY_LINE,
} from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
const C = 0xffff888100003000n;
const D = 0xffff888100004000n;
const DROP = { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x4bcn };
const CONSUME = { kind: VERDICT_CONSUME, location: 0xffffffff81000abcn };

// A dropped, then its address reused by a packet that is consumed; B dropped by netfilter; C never ends.
const EVENTS: Ev[] = [
  { skb: A, ts: 100n, func: IP_RCV, cpu: 0 },
  { skb: B, ts: 105n, func: IP_RCV, cpu: 1 },
  { skb: A, ts: 110n, func: UDP_RCV, cpu: 0 },
  { skb: A, ts: 120n, func: TP, cpu: 0, verdict: DROP },
  { skb: C, ts: 125n, func: IP_RCV, cpu: 1 },
  { skb: A, ts: 130n, func: IP_RCV, cpu: 0 },
  { skb: B, ts: 135n, func: TP, cpu: 1, verdict: { kind: VERDICT_DROP, reason: 9, location: 0n } },
  { skb: A, ts: 140n, func: TP, cpu: 0, verdict: CONSUME },
  { skb: C, ts: 150n, func: UDP_RCV, cpu: 1 },
];

test("aggregate: a verdict ends its packet; a reused address starts another; each packet ends with its verdict line", () => {
  const { out } = run("aggregate", EVENTS, { verdicts: true });
  const packets = out.split(/^===.*\n/m).slice(1);
  assert.equal(packets.length, 4);
  const last = packets.map((p) => p.trimEnd().split("\n").at(-1));
  // A drop the explanations know has its cause under the verdict; NETFILTER_DROP at no known place too.
  assert.deepEqual(last, [
    UDP_CAUSE,
    `Cause: ${explainDrop("NETFILTER_DROP", "")!.text}`,
    "Verdict: none seen (last seen at udp_rcv)",
    "Verdict: consumed at 0xffffffff81000abc",
  ]);
  assert.equal(
    packets[0]!.trimEnd().split("\n").at(-2),
    "Verdict: dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc",
  );
  assert.equal(packets[1]!.trimEnd().split("\n").at(-2), "Verdict: dropped (NETFILTER_DROP)");
  assert.equal(packets[0]!.split("\n").length - 3, 3, "A's first packet: ip_rcv, udp_rcv, the drop");
  assert.equal(packets[3]!.split("\n").length - 2, 2, "A's second packet: ip_rcv, the consume");
});

test("aggregate: events of one packet that arrive out of time order (other CPUs) stay one packet, by time", () => {
  // A packet's events arrive in the order its path ran (each is in the ring before the packet moves
  // on), but timestamps taken on two CPUs may disagree with it.
  const evs: Ev[] = [
    { skb: A, ts: 110n, func: UDP_RCV, cpu: 1 },
    { skb: A, ts: 100n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 120n, func: TP, cpu: 0, verdict: DROP },
  ];
  const { out } = run("aggregate", evs, { verdicts: true });
  assert.equal(out.split(/^===.*\n/m).length - 1, 1, out);
  assert.match(out, /ip_rcv\n.*udp_rcv\n.*netif_receive_skb\nVerdict: dropped/);
});

test("the summary: packets by verdict, drops by reason and place, where open packets were last seen", () => {
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const { w } = run(kind, EVENTS, { verdicts: true });
    assert.deepEqual(w.summary(), [
      "4 packets: 2 dropped, 1 consumed, 0 delivered, 1 without a verdict",
      "2 dropped: NO_SOCKET at __udp4_lib_rcv (1), NETFILTER_DROP at an unknown place (1)",
      UDP_WHY_LINE,
      `  NETFILTER_DROP: ${explainDrop("NETFILTER_DROP", "")!.text}`,
      "1 without a verdict, last seen at: udp_rcv (1)",
    ]);
  }
});

test("json: the verdict's keys only on the event that decided it", () => {
  const { out } = run("json", EVENTS, { verdicts: true });
  const ev = out
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(ev.filter((e) => "verdict" in e).length, 3);
  assert.deepEqual(
    { verdict: ev[3]!.verdict, drop_reason: ev[3]!.drop_reason, location: ev[3]!.location },
    { verdict: "drop", drop_reason: "NO_SOCKET", location: "__udp4_lib_rcv+0x4bc" },
  );
  assert.equal(ev[6]!.location, undefined, "a drop without a location has no location key");
  assert.deepEqual(Object.keys(ev[7]!).slice(-2), ["verdict", "location"]);
  assert.equal(ev[7]!.drop_reason, undefined);
  assert.ok(!("verdict" in ev[0]!));
});

test("stream: the verdict follows the function on its line", () => {
  const { out } = run("stream", EVENTS, { verdicts: true });
  const lines = out.trimEnd().split("\n");
  assert.ok(lines[3]!.endsWith(` netif_receive_skb dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc: ${UDP_WHY}`));
  assert.match(lines[7]!, / netif_receive_skb consumed at 0xffffffff81000abc$/);
  assert.doesNotMatch(lines[0]!, /dropped|consumed/);
});

test("--drops: only dropped packets, whole, in every format; the summary still counts everything", () => {
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const { out, w } = run(kind, EVENTS, { dropsOnly: true });
    const n = kind === "aggregate" ? out.split(/^===.*\n/m).length - 1 : -1;
    if (kind === "aggregate") assert.equal(n, 2, out);
    else assert.equal(out.trimEnd().split("\n").length, 5, `${kind}: A's 3 events and B's 2\n${out}`);
    assert.doesNotMatch(out, /consumed|none seen/);
    assert.equal(w.summary()[0], "4 packets: 2 dropped, 1 consumed, 0 delivered, 1 without a verdict");
  }
});

/** A DropsOnly over a writer that keeps the timestamps of what reaches it. */
function dropsOnly(maxBytes?: number, maxPackets?: number) {
  const written: number[] = [];
  const inner: Writer = {
    count: 0,
    overflow: 0,
    write: (dv, off) => written.push(Number(dv.getBigUint64(off + 8, true))),
    finish: () => {},
  };
  const d = new DropsOnly(inner, maxBytes, maxPackets);
  const feed = (evs: Ev[]) => {
    const dv = records(evs);
    const ids = new PacketTracker();
    for (const o of recordOffsets(evs)) d.write(dv, o, ids.of(dv, o));
  };
  return { d, written, feed };
}

const SNAP = Array.from({ length: 4096 }, (_, i) => i & 0xff);

test("--drops holds events by bytes: past the bound the oldest packets are let go; a drop among them is counted", () => {
  // 1 MiB holds 252 events of 4,096 packet bytes (4,240 bytes each, with the arena's header).
  const { d, written, feed } = dropsOnly(1 << 20);
  const big = (skb: bigint, ts: bigint): Ev => ({
    skb,
    ts,
    func: IP_RCV,
    cpu: 0,
    packet: { bytes: SNAP, wireLen: 5000 },
  });
  const evs: Ev[] = [];
  for (let i = 0n; i < 100n; i++) for (let k = 0n; k < 3n; k++) evs.push(big(A + i * 256n, 10n * i + k));
  feed(evs);
  const { memory, table } = d.letGo;
  assert.ok(memory > 0 && table === 0, `let go: ${memory}, ${table}`);
  assert.ok(d.holding.bytes <= 1 << 20 && d.holding.peakBytes <= 1 << 20);
  // A's events were let go: its drop prints alone and counts; the last packet's drop prints whole.
  feed([
    { skb: A, ts: 5000n, func: TP, cpu: 0, verdict: DROP },
    { skb: A + 99n * 256n, ts: 5001n, func: TP, cpu: 0, verdict: DROP },
  ]);
  assert.deepEqual(written, [5000, 990, 991, 992, 5001]);
  assert.equal(d.cut, 1);
  assert.equal(
    d.notice(),
    `--drops let go of ${memory} packets' events before their verdict (${memory} at the 1 MiB memory bound (--drops-memory)); 1 of them was dropped later, printed without the events let go`,
  );
});

test("--drops holds a bounded number of packets: past it the oldest is let go, and that is said", () => {
  const { d, written, feed } = dropsOnly(undefined, 2);
  feed([
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 2n, func: IP_RCV, cpu: 0 },
    { skb: C, ts: 3n, func: IP_RCV, cpu: 0 }, // a third packet: A is let go
    { skb: B, ts: 4n, func: TP, cpu: 0, verdict: DROP },
    { skb: C, ts: 5n, func: TP, cpu: 0, verdict: CONSUME },
  ]);
  assert.deepEqual(written, [2, 4], "B whole, C consumed");
  assert.deepEqual(d.letGo, { memory: 0, table: 1 });
  assert.match(
    d.notice()!,
    /let go of 1 packets' events .*1 at the bound of 2 packets held at once\); none of them was seen dropped later$/,
  );
});

test("--drops lets go of what it no longer needs: consumed packets, and packets whose address a new packet took", () => {
  const { d, written, feed } = dropsOnly();
  feed([
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0, track: 1n },
    { skb: A, ts: 2n, func: UDP_RCV, cpu: 0, track: 1n },
    { skb: B, ts: 3n, func: IP_RCV, cpu: 0, track: 3n },
  ]);
  assert.equal(d.holding.packets, 2);
  feed([{ skb: A, ts: 4n, func: TP, cpu: 0, track: 1n, verdict: CONSUME }]);
  assert.deepEqual([d.holding.packets, d.holding.bytes], [1, 144], "A released at its consume");
  // B's address under a new track id: B was freed where no verdict was traced; the new packet is held.
  feed([{ skb: B, ts: 5n, func: IP_RCV, cpu: 0, track: 5n }]);
  assert.deepEqual([d.holding.packets, d.holding.bytes, d.ended], [1, 144, 1]);
  feed([{ skb: B, ts: 6n, func: TP, cpu: 0, track: 5n, verdict: DROP }]);
  assert.deepEqual(written, [5, 6], "the new packet's drop, without B's event");
  assert.deepEqual([d.holding.packets, d.holding.bytes], [0, 0]);
  assert.equal(d.notice(), undefined, "nothing let go");
});

test("with track ids, the summary and --drops agree with the aggregate: a reused address is two packets", () => {
  const skb = 0xffff888000002000n;
  const evs = [
    { skb, ts: 1n, func: IP_RCV, cpu: 0, track: 1n },
    { skb, ts: 5n, func: IP_RCV, cpu: 0, track: 5n },
    { skb, ts: 6n, func: TP, cpu: 0, track: 5n, verdict: { kind: VERDICT_DROP, reason: 2 } },
  ];
  const { out, w } = run("aggregate", evs, { verdicts: true });
  assert.equal(out.split(/^===.*\n/m).length - 1, 2, out);
  assert.equal(w.summary()[0], "2 packets: 1 dropped, 0 consumed, 0 delivered, 1 without a verdict");
  // --drops holds the dropped packet's events by its track id: the first packet's event is not in it.
  const d = run("stream", evs, { dropsOnly: true });
  assert.equal(d.out.trimEnd().split("\n").length, 2, d.out);
});

test("the ledger holds a bounded number of open packets: past it the oldest is let go, still counted where it was last seen", () => {
  const ledger = new PacketLedger(new VerdictText(namer), 2);
  const evs: Ev[] = [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 2n, func: UDP_RCV, cpu: 0 },
    { skb: C, ts: 3n, func: IP_RCV, cpu: 0 }, // a third open packet: A is let go
    { skb: B, ts: 4n, func: TP, cpu: 0, verdict: DROP },
    { skb: A, ts: 5n, func: UDP_RCV, cpu: 0 }, // A's address again: a packet of its own now
  ];
  const offs = recordOffsets(evs);
  const dv = records(evs);
  for (const o of offs) ledger.event(dv, o);
  assert.deepEqual(ledger.summary(symbolizer), [
    "4 packets: 1 dropped, 0 consumed, 0 delivered, 3 without a verdict",
    "1 dropped: NO_SOCKET at __udp4_lib_rcv (1)",
    UDP_WHY_LINE,
    "3 without a verdict, last seen at: ip_rcv (2), udp_rcv (1)",
  ]);
});

test("the free path after a verdict is the ended packet's, in every format; the next packet at the address is new", () => {
  const FREE = 0xffffffff81300000n; // kfree_skbmem, say: any function address
  const evs: Ev[] = [
    { skb: A, ts: 100n, func: IP_RCV, cpu: 0, track: 100n },
    { skb: A, ts: 110n, func: TP, cpu: 0, track: 100n, verdict: DROP },
    { skb: A, ts: 111n, func: FREE, cpu: 0, track: 100n, freeing: true },
    { skb: A, ts: 112n, func: UDP_RCV, cpu: 0, track: 100n, ret: true },
    { skb: A, ts: 200n, func: IP_RCV, cpu: 0, track: 200n },
  ];
  for (const track of [true, false]) {
    const e = evs.map((x) => (track ? x : { ...x, track: undefined }));
    const { out, w } = run("aggregate", e, { verdicts: true });
    const packets = out.split(/^===.*\n/m).slice(1);
    assert.equal(packets.length, 2, out);
    const first = packets[0]!.trimEnd().split("\n");
    assert.equal(
      first.length,
      6,
      `ip_rcv, the drop, the free path, the return, the verdict, its cause\n${out}`,
    );
    assert.deepEqual(first.slice(-2), ["Verdict: dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc", UDP_CAUSE]);
    for (const kind of ["aggregate", "stream", "json"] as const)
      assert.equal(
        run(kind, e, { verdicts: true }).w.summary()[0],
        "2 packets: 1 dropped, 0 consumed, 0 delivered, 1 without a verdict",
        kind,
      );
    assert.equal(w.summary()[0], "2 packets: 1 dropped, 0 consumed, 0 delivered, 1 without a verdict");
    // --drops: the dropped packet with what followed its verdict; the next packet is not dropped.
    const d = run("stream", e, { dropsOnly: true });
    assert.equal(d.out.trimEnd().split("\n").length, 4, d.out);
  }
});

test("with tracking, the summary takes the kernel's packet count and last-seen places; verdicts are counted here", () => {
  let asked = 0;
  const kernelCounts = () => {
    asked++;
    // Five packets selected; of the two without a verdict, one was last seen at udp_rcv, the other was
    // pushed out of the tracking table.
    return { seen: 5, lastSeen: new Map([[UDP_RCV, 1]]) };
  };
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const { w } = run(kind, EVENTS, { verdicts: true, kernelCounts });
    assert.deepEqual(w.summary(), [
      "5 packets: 2 dropped, 1 consumed, 0 delivered, 2 without a verdict",
      "2 dropped: NO_SOCKET at __udp4_lib_rcv (1), NETFILTER_DROP at an unknown place (1)",
      UDP_WHY_LINE,
      `  NETFILTER_DROP: ${explainDrop("NETFILTER_DROP", "")!.text}`,
      "2 without a verdict, last seen at: udp_rcv (1), not followed to the end (1)",
    ]);
  }
  assert.equal(asked, 3, "read once per summary, not per event");
});

test("a packet last seen where its data was copied to user space was delivered, in every format and the summary", () => {
  // A: read by its application (the tracepoint); B: the same on a function backend, with function_graph's
  // return last; C: copied, then dropped after all; D: never copied.
  const evs: Ev[] = [
    { skb: A, ts: 100n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 101n, func: IP_RCV, cpu: 1 },
    { skb: C, ts: 102n, func: IP_RCV, cpu: 1 },
    { skb: A, ts: 110n, func: COPY_TP, cpu: 0 },
    { skb: B, ts: 111n, func: COPY_FN, cpu: 1 },
    { skb: B, ts: 112n, func: COPY_FN, cpu: 1, ret: true },
    { skb: C, ts: 113n, func: COPY_TP, cpu: 1 },
    { skb: C, ts: 114n, func: TP, cpu: 1, verdict: DROP },
    { skb: D, ts: 120n, func: UDP_RCV, cpu: 0 },
  ];
  const agg = run("aggregate", evs, { verdicts: true }).out;
  assert.deepEqual(
    agg
      .split(/^===.*\n/m)
      .slice(1)
      .map((p) => p.trimEnd().split("\n").at(-1)),
    [
      "Verdict: delivered (copied to user space at skb_copy_datagram_iovec)",
      "Verdict: delivered (copied to user space at skb_copy_datagram_iter)",
      UDP_CAUSE,
      "Verdict: none seen (last seen at udp_rcv)",
    ],
  );
  // stream and json mark the event that copied (not the return: its entry said it already).
  const stream = run("stream", evs, { verdicts: true }).out.trimEnd().split("\n");
  assert.deepEqual(
    stream.filter((l) => l.includes("delivered")).map((l) => l.split(" ").slice(5).join(" ")),
    [
      "skb_copy_datagram_iovec delivered (copied to user space)",
      "skb_copy_datagram_iter delivered (copied to user space)",
      "skb_copy_datagram_iovec delivered (copied to user space)",
    ],
  );
  const json = run("json", evs, { verdicts: true })
    .out.trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    json.filter((e) => e.delivered === true).map((e) => [e.function, e.is_return, e.verdict]),
    [
      ["skb_copy_datagram_iovec", false, undefined],
      ["skb_copy_datagram_iter", false, undefined],
      ["skb_copy_datagram_iovec", false, undefined],
    ],
  );
  // Without verdicts (ipftrace2's output), nothing is added.
  assert.doesNotMatch(run("stream", evs).out + run("json", evs).out, /delivered/);
  const summary = [
    "4 packets: 1 dropped, 0 consumed, 2 delivered, 1 without a verdict",
    "1 dropped: NO_SOCKET at __udp4_lib_rcv (1)",
    UDP_WHY_LINE,
    "1 without a verdict, last seen at: udp_rcv (1)",
  ];
  for (const kind of ["aggregate", "stream", "json"] as const)
    assert.deepEqual(run(kind, evs, { verdicts: true }).w.summary(), summary, kind);
  // With tracking, from the kernel's last-seen places.
  const kernelCounts = () => ({
    seen: 4,
    lastSeen: new Map([
      [COPY_TP, 1],
      [COPY_FN, 1],
      [UDP_RCV, 1],
    ]),
  });
  assert.deepEqual(run("json", evs, { verdicts: true, kernelCounts }).w.summary(), summary);
  // --drops: a delivered packet is not a drop.
  const drops = run("aggregate", evs, { dropsOnly: true });
  assert.equal(drops.out.split(/^===.*\n/m).length - 1, 1, drops.out);
  assert.match(drops.out, /Verdict: dropped/);
  assert.deepEqual(drops.w.summary().slice(0, 1), summary.slice(0, 1));
});

test("--drops: what continues a packet follows its own verdict, after many packets too (without tracking)", () => {
  const { written, feed } = dropsOnly();
  const FREE = 0xffffffff81300000n;
  // A dropped, its free path printed; then a packet at A whose first event is its consume: its free path
  // is the consumed packet's, not printed.
  feed([
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 2n, func: TP, cpu: 0, verdict: DROP },
    { skb: A, ts: 3n, func: FREE, cpu: 0, freeing: true },
    { skb: A, ts: 4n, func: TP, cpu: 0, verdict: CONSUME },
    { skb: A, ts: 5n, func: FREE, cpu: 0, freeing: true },
  ]);
  assert.deepEqual(written, [1, 2, 3]);
  // A dropped again after a thousand other drops in between: its free path is still its own (a set of
  // recent drops that forgot A early lost it).
  written.length = 0;
  const others: Ev[] = Array.from({ length: 1023 }, (_, i) => ({
    skb: C + BigInt(i) * 256n,
    ts: 100n + BigInt(i),
    func: TP,
    cpu: 0,
    verdict: DROP,
  }));
  feed([
    { skb: A, ts: 10n, func: IP_RCV, cpu: 0 },
    ...others.slice(0, 1022),
    { skb: A, ts: 2000n, func: TP, cpu: 0, verdict: DROP },
    ...others.slice(1022),
    { skb: A, ts: 2001n, func: FREE, cpu: 0, freeing: true },
  ]);
  assert.deepEqual(written.slice(-4), [10, 2000, 1122, 2001]);
  assert.equal(written.length, 1023 + 3);
});
