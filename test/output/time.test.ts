import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createWriter, functionDumper, TimeColumn } from "../../src/output/index.js";
import { bucketMiddle, bucketOf, StepTimes } from "../../src/output/packet/steps.js";
import { elapsedText } from "../../src/output/time/elapsed-text.js";
import { VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import { ROOT } from "../support/run.js";
import {
  BIG_TS,
  COPY_TP,
  type Ev,
  IP_RCV,
  LONG,
  records,
  run,
  symbolizer,
  TP,
  UDP_RCV,
  WEIRD,
} from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
/** Two packets interleaved; A's address is reused by a third after A's verdict. */
const EVS: Ev[] = [
  { skb: A, ts: 1000n, func: IP_RCV, cpu: 0 },
  { skb: B, ts: 1500n, func: LONG, cpu: 1 },
  { skb: A, ts: 13345n, func: UDP_RCV, cpu: 0 },
  {
    skb: A,
    ts: 2_001_000n,
    func: TP,
    cpu: 0,
    verdict: { kind: VERDICT_DROP, reason: 2, location: 0xffffffff81234567n },
  },
  { skb: B, ts: 1_500_001_500n, func: COPY_TP, cpu: 1 },
  { skb: A, ts: BIG_TS, func: WEIRD, cpu: 3, verdict: { kind: VERDICT_CONSUME } },
];

test("elapsed text: the largest unit it is at least 1 of, three decimals truncated, ns whole", () => {
  const cases: [number, string][] = [
    [0, "+0ns"],
    [999, "+999ns"],
    [1000, "+1.000us"],
    [12_345, "+12.345us"],
    [1_999_999, "+1.999ms"],
    [999_999_999, "+999.999ms"],
    [1_500_000_000, "+1.500s"],
    [-2500, "-2.500us"],
  ];
  for (const [ns, text] of cases) assert.equal(elapsedText(ns), text, String(ns));
  assert.equal(elapsedText(45_210, false), "45.210us");
});

test("--layout ipftrace2: aggregate, stream and json byte for byte as before the added columns", () => {
  // The golden file was made by the writers before times were added (and checked equal to them then).
  const dumper = functionDumper((d) => (d[0] === 2 ? { n: 7 } : ""));
  let all = "";
  for (const kind of ["aggregate", "stream", "json"] as const)
    for (const d of [undefined, dumper]) {
      const r = run(kind, EVS, { verdicts: true, layout: "ipftrace2", ...(d ? { dumper: d } : {}) });
      all += `--- ${kind}${d ? " dump" : ""}\n${r.out}${r.w.summary().join("\n")}\n`;
    }
  assert.equal(all, readFileSync(join(ROOT, "test/output/ipftrace2-layout.golden.txt"), "utf8"));
});

test("aggregate: the Elapsed column since the packet's first event, the packet's total on its === line", () => {
  const { out } = run("aggregate", EVS, { verdicts: true, layout: "ipft" });
  const lines = out.split("\n");
  assert.equal(
    lines[0],
    `Timestamp            ${"Elapsed".padStart(10)} CPU ${"Module".padStart(24)} ${"Function".padStart(32)}`,
  );
  assert.equal(lines[1], "=== packet 1, skb 0xffff888100001000, took 2.000ms");
  assert.equal(
    lines[2],
    `${"1000".padEnd(20)} ${"+0ns".padStart(10)} 000 ${"vmlinux".padStart(24)} ${"ip_rcv".padStart(32)}`,
  );
  assert.equal(lines[3]!.slice(0, 31), `${"13345".padEnd(20)} ${"+12.345us".padStart(10)}`);
  assert.equal(lines[4]!.slice(0, 31), `${"2001000".padEnd(20)} ${"+2.000ms".padStart(10)}`);
  assert.equal(lines[6], "=== packet 2, skb 0xffff888100002000, took 1.500s");
  assert.equal(lines[8]!.slice(0, 31), `${"1500001500".padEnd(20)} ${"+1.500s".padStart(10)}`);
  assert.equal(lines[10], "=== packet 3, skb 0xffff888100001000, took 0ns");
});

test("stream: the time since the packet's first event after the timestamp; the verdict line's is the total", () => {
  const { out } = run("stream", EVS, { verdicts: true, layout: "ipft" });
  const heads = out
    .trimEnd()
    .split("\n")
    .map((l) => l.split(" ").slice(0, 5).join(" "));
  assert.deepEqual(heads, [
    "1 0xffff888100001000 1000 +0ns 000",
    "2 0xffff888100002000 1500 +0ns 001",
    "1 0xffff888100001000 13345 +12.345us 000",
    "1 0xffff888100001000 2001000 +2.000ms 000",
    "2 0xffff888100002000 1500001500 +1.500s 001",
    "3 0xffff888100001000 1152921504606846979 +0ns 003",
  ]);
});

test("--time relative: seconds since the start of tracing, nine decimals, negative before it", () => {
  const t = new TimeColumn("relative", { startNs: 1500n, offsetNs: 0n });
  const { out } = run("stream", EVS.slice(0, 3), { layout: "ipftrace2", time: t });
  assert.deepEqual(
    out
      .trimEnd()
      .split("\n")
      .map((l) => l.split(" ")[2]),
    ["-0.000000500", "0.000000000", "0.000011845"],
  );
  const agg = run("aggregate", EVS.slice(0, 1), { layout: "ipftrace2", time: t }).out.split("\n");
  assert.equal(agg[2]!.slice(0, 21), `${"-0.000000500".padEnd(20)} `);
});

test("--time wall: ISO 8601 UTC with microseconds, from the clock offset, carrying across the millisecond", () => {
  // 2026-12-04T22:30:20.123456789Z minus 1000 ns of monotonic time.
  const wall = 1_796_423_420_123_456_789n;
  const t = new TimeColumn("wall", { startNs: 0n, offsetNs: wall - 1000n });
  const evs: Ev[] = [
    { skb: A, ts: 1000n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 1000n + 543_211n, func: UDP_RCV, cpu: 0 }, // .123456789 + 543211 ns = .124000000
    { skb: A, ts: BIG_TS, func: TP, cpu: 0 }, // beyond 2^53: through bigints
  ];
  const { out } = run("stream", evs, { layout: "ipftrace2", time: t });
  const big = new Date(Number((wall - 1000n + BIG_TS) / 1_000_000n)).toISOString().slice(0, -1);
  const us = String(((wall - 1000n + BIG_TS) % 1_000_000n) / 1000n).padStart(3, "0");
  assert.deepEqual(
    out
      .trimEnd()
      .split("\n")
      .map((l) => l.split(" ")[2]),
    ["2026-12-04T22:30:20.123456Z", "2026-12-04T22:30:20.124000Z", `${big}${us}Z`],
  );
  // aggregate: the column is 27 wide, the header too
  const agg = run("aggregate", evs.slice(0, 1), { layout: "ipft", time: t }).out.split("\n");
  assert.equal(agg[0]!.indexOf("Elapsed") - 1, 27 + 3);
  assert.equal(agg[2]!.slice(0, 28), "2026-12-04T22:30:20.123456Z ");
});

test("json: the exact boot-time integer, and wall_time; ipftrace2's layout has none", () => {
  const t = new TimeColumn("boot", { startNs: 0n, offsetNs: 1_796_423_420_000_000_000n });
  const one: Ev[] = [{ skb: A, ts: BIG_TS, func: IP_RCV, cpu: 0 }];
  const line = run("json", one, { layout: "ipft", time: t }).out;
  assert.match(line, /"timestamp":1152921504606846979,/);
  const o = JSON.parse(line) as { wall_time: string };
  const ns = 1_796_423_420_000_000_000n + BIG_TS;
  assert.equal(o.wall_time.slice(0, 23), new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 23));
  assert.match(o.wall_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.doesNotMatch(run("json", one, { layout: "ipftrace2", time: t }).out, /wall_time/);
});

test("step histogram: buckets rise with the value, each middle within 1/32 of every value in it", () => {
  let prev = -1;
  for (const ns of [
    0,
    1,
    15,
    16,
    17,
    31,
    32,
    33,
    1000,
    1023,
    1024,
    1025,
    123_456,
    2 ** 30 - 1,
    2 ** 30,
    9e12,
  ]) {
    const b = bucketOf(ns);
    assert.ok(b >= prev, `${ns}`);
    prev = b;
    assert.ok(Math.abs(bucketMiddle(b) - ns) <= ns / 32 + 0.5, `${ns}: ${bucketMiddle(b)}`);
  }
});

test("summary: the slowest steps between consecutive attach points, by median then max, returns skipped", () => {
  const evs: Ev[] = [];
  // 10 packets: ip_rcv -> udp_rcv takes 1us..10us (median 5us), udp_rcv -> TP 100ns, one 50us
  for (let p = 0; p < 10; p++) {
    const skb = 0x1000n + BigInt(p) * 0x100n;
    const t0 = BigInt(p) * 1_000_000n;
    const dt = BigInt(p + 1) * 1000n;
    evs.push({ skb, ts: t0, func: IP_RCV, cpu: 0 });
    evs.push({ skb, ts: t0 + 10n, func: LONG, cpu: 0, ret: true }); // a return: no attach point
    evs.push({ skb, ts: t0 + dt, func: UDP_RCV, cpu: 0 });
    evs.push({ skb, ts: t0 + dt + (p === 3 ? 50_000n : 100n), func: TP, cpu: 0 });
  }
  const { w } = run("stream", evs, { layout: "ipft" });
  const lines = w.summary();
  assert.equal(lines[0], "slowest steps between consecutive attach points:");
  assert.equal(lines.length, 3, "two steps: the returns made none");
  // The median is a histogram bucket's middle: within 1/32 of the true one; the maximum is exact.
  const step = (l: string) => {
    const m = /^ {2}(\S+) -> (\S+): median ([\d.]+)(ns|us), max ([\d.]+us) over (\d+) passes$/.exec(l);
    assert.ok(m, l);
    return { from: m[1], to: m[2], median: Number(m[3]) * (m[4] === "us" ? 1000 : 1), max: m[5], n: m[6] };
  };
  const a = step(lines[1]!);
  const b = step(lines[2]!);
  assert.deepEqual([a.from, a.to, a.max, a.n], ["ip_rcv", "udp_rcv", "10.000us", "10"]);
  assert.ok(Math.abs(a.median - 5000) <= 5000 / 32, `${a.median}`);
  assert.deepEqual([b.from, b.to, b.max, b.n], ["udp_rcv", "netif_receive_skb", "50.000us", "10"]);
  assert.ok(Math.abs(b.median - 100) <= 100 / 32 + 1, `${b.median}`);
  assert.deepEqual(run("stream", evs, { layout: "ipftrace2" }).w.summary(), []);
});

test("steps: memory bounded by packets remembered and by distinct steps; out-of-order events make no step", () => {
  const s = new StepTimes(4, 2);
  const dv = records([
    { skb: 1n, ts: 100n, func: IP_RCV, cpu: 0 },
    { skb: 1n, ts: 90n, func: UDP_RCV, cpu: 1 }, // earlier than the last: no step
    { skb: 1n, ts: 200n, func: TP, cpu: 0 }, // udp_rcv -> TP 110ns
    { skb: 1n, ts: 300n, func: IP_RCV, cpu: 0 }, // TP -> ip_rcv
    { skb: 1n, ts: 400n, func: LONG, cpu: 0 }, // a third distinct step: not kept
  ]);
  for (let i = 0; i < 5; i++) s.event(dv, i * 128, 7);
  assert.equal(s.notKept, 1);
  assert.deepEqual(
    s.slowest(symbolizer).map((x) => `${x.from}->${x.to} ${x.medianNs} ${x.n}`),
    ["udp_rcv->netif_receive_skb 110 1", "netif_receive_skb->ip_rcv 100 1"],
  );
  // packet 11 takes packet 7's place in a ring of 4: its first event starts it, no step from 7's
  const t = new StepTimes(4);
  t.event(dv, 0, 7);
  t.event(dv, 2 * 128, 11);
  assert.deepEqual(t.slowest(symbolizer), []);
});

test("createWriter: each addition has its own option, the layout only sets their defaults", () => {
  let out = "";
  const w = createWriter("stream", {
    out: { write: (s: string) => (out += s) },
    symbolizer,
    layout: "ipftrace2",
    elapsed: true,
  });
  const dv = records(EVS.slice(0, 3));
  w.write(dv, 0, 1);
  w.write(dv, 256, 1);
  w.finish();
  assert.equal(
    out,
    "1 0xffff888100001000 1000 +0ns 000 vmlinux ip_rcv\n1 0xffff888100001000 13345 +12.345us 000 vmlinux udp_rcv\n",
  );
});
