// Packet ids: 1, 2, 3... in the order packets first appear, never shared by two packets at one reused skb
// address, the same in json, stream, aggregate and the trace file (epb_packetid), and read back from it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createWriter } from "../../src/output/index.js";
import { PacketTracker } from "../../src/output/packet/tracker.js";
import { PcapngOutput } from "../../src/output/pcapng.js";
import { replayInto, replayOf } from "../../src/output/pcapng-replay.js";
import { MonotonicClock } from "../../src/pcapng/clock.js";
import { EPB_PACKETID } from "../../src/pcapng/format.js";
import { parsePcapng } from "../../src/pcapng/reader.js";
import { MemorySink } from "../../src/pcapng/sinks.js";
import { VERDICT_CONSUME } from "../../src/record/record.js";
import { type Ev, IP_RCV, namer, recordOffsets, records, run, symbolizer, TP, UDP_RCV } from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
const FREE = 0xffffffff81300000n; // a function of the skb's free path
const CONSUME = { kind: VERDICT_CONSUME, location: 0xffffffff81000abcn };

/** 30 datagrams, the kernel reusing two sk_buffs in turn: each through ip_rcv and udp_rcv to its verdict,
 * then its free path (after the verdict: still that packet). Without tracking. */
const UNTRACKED: Ev[] = Array.from({ length: 30 }, (_, i) => {
  const skb = i % 2 ? B : A;
  const ts = BigInt(100 * i);
  return [
    { skb, ts, func: IP_RCV, cpu: 0 },
    { skb, ts: ts + 1n, func: UDP_RCV, cpu: 0 },
    { skb, ts: ts + 2n, func: TP, cpu: 0, verdict: CONSUME },
    { skb, ts: ts + 3n, func: FREE, cpu: 0, freeing: true },
  ];
}).flat();

/** The same with tracking, no verdict seen: each datagram its own track id. */
const TRACKED: Ev[] = Array.from({ length: 30 }, (_, i) => {
  const skb = i % 2 ? B : A;
  const ts = BigInt(100 * i);
  return [
    { skb, ts, func: IP_RCV, cpu: 0, track: ts + 1000n },
    { skb, ts: ts + 1n, func: UDP_RCV, cpu: 0, track: ts + 1000n },
  ];
}).flat();

const json = (out: string) =>
  out
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { packet_id: number; skb: string; timestamp: number });

const want = (evs: Ev[], per: number) => evs.map((_, i) => Math.floor(i / per) + 1);

test("30 datagrams in 2 reused sk_buffs are 30 packets, numbered 1 to 30, in json and stream", () => {
  for (const [evs, per] of [
    [UNTRACKED, 4],
    [TRACKED, 2],
  ] as const) {
    const j = json(run("json", evs, { verdicts: true }).out);
    assert.deepEqual(
      j.map((e) => e.packet_id),
      want(evs, per),
    );
    assert.equal(new Set(j.map((e) => e.skb)).size, 2, "the address is its own key, as it was");
    const lines = run("stream", evs, { verdicts: true }).out.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => Number(l.split(" ")[0])),
      want(evs, per),
    );
    assert.match(lines[0]!, /^1 0xffff888100001000 0 000 vmlinux ip_rcv$/);
    const agg = run("aggregate", evs, { verdicts: true }).out;
    const heads = agg.split("\n").filter((l) => l.startsWith("==="));
    assert.equal(heads.length, 30);
    assert.equal(heads[29], `=== packet 30, skb 0x${B.toString(16)}`);
  }
});

test("--drops prints the packets under the ids they were given as they came", () => {
  const drop = { kind: 1, reason: 2, location: 0n };
  // Packet 2 is consumed, 1 and 3 dropped: --drops prints 1 and 3 under their own ids.
  const evs: Ev[] = [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 2n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 3n, func: TP, cpu: 0, verdict: CONSUME },
    { skb: A, ts: 4n, func: TP, cpu: 0, verdict: drop },
    { skb: B, ts: 5n, func: IP_RCV, cpu: 0 },
    { skb: B, ts: 6n, func: TP, cpu: 0, verdict: drop },
  ];
  const j = json(run("json", evs, { dropsOnly: true }).out);
  assert.deepEqual(
    j.map((e) => [e.packet_id, e.timestamp]),
    [
      [1, 1],
      [1, 4],
      [3, 5],
      [3, 6],
    ],
  );
});

test("the trace file's epb_packetid is the packet id, and --read prints the ids the file has", () => {
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock: new MonotonicClock({ offsetNs: 0n, uncertaintyNs: 0n }),
    userappl: "ipft test",
    tracer: "function",
  }).start({ symbolizer, verdicts: namer });
  const dv = records(UNTRACKED);
  const ids = new PacketTracker();
  for (const off of recordOffsets(UNTRACKED)) out.write(dv, off, ids.of(dv, off));
  out.finish();
  const c = parsePcapng(sink.bytes());
  assert.deepEqual(
    c.packets.map((p) => Number(p.packetId)),
    want(UNTRACKED, 4),
  );
  // The comment (the stream line) starts with it too.
  assert.match(c.packets[4]!.comments[0]!, /^2 0xffff888100002000 100 000 vmlinux ip_rcv$/);
  const read = (bytes: Uint8Array) => {
    const r = replayOf(parsePcapng(bytes), "t.pcapng");
    let s = "";
    const w = createWriter("json", {
      layout: "ipftrace2",
      out: { write: (x: string) => (s += x) },
      symbolizer: r.symbolizer,
      verdicts: r.verdicts,
    });
    replayInto(r, w);
    w.finish();
    return { s, r };
  };
  const live = run("json", UNTRACKED, { verdicts: true }).out;
  assert.equal(read(sink.bytes()).s, live);
  // The file's ids are what --read prints, not a numbering of its own: ids edited in the file show.
  const edited = sink.bytes().slice();
  const opt = parsePcapng(edited).packets[0]!.options.find((o) => o.code === EPB_PACKETID)!;
  new DataView(opt.value.buffer, opt.value.byteOffset, 8).setBigUint64(0, 77n, true);
  assert.equal(json(read(edited).s)[0]!.packet_id, 77);
  // A file of format 2 (epb_packetid was the skb's address): numbered as it is read.
  const v2 = Buffer.from(sink.bytes());
  const m = v2.indexOf('"format":3');
  v2.write('"format":2', m, "latin1");
  const old = read(new Uint8Array(v2));
  assert.equal(old.r.packetIds, undefined);
  assert.equal(old.s, live);
});

test("memory is bounded: past the bound, the packet first seen longest ago is forgotten", () => {
  const ids = new PacketTracker(4);
  const evs: Ev[] = Array.from({ length: 10 }, (_, i) => ({
    skb: A + BigInt(i) * 256n,
    ts: BigInt(i),
    func: IP_RCV,
    cpu: 0,
  }));
  const dv = records(evs);
  const offs = recordOffsets(evs);
  assert.deepEqual(
    offs.map((o) => ids.of(dv, o)),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  // The last four are remembered; the first was forgotten: its next event is a packet of its own.
  assert.equal(ids.of(dv, offs[9]!), 10);
  assert.equal(ids.of(dv, offs[6]!), 7);
  assert.equal(ids.of(dv, offs[0]!), 11);
  assert.equal(ids.count, 11);
});
