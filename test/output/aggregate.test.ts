import assert from "node:assert/strict";
import { test } from "node:test";
import { AGGREGATE_HEADER, createWriter, functionDumper } from "../../src/output/index.js";
import {
  BIG_TS,
  type Ev,
  IP_RCV,
  LONG,
  LONG_FUNC,
  LONG_MODULE,
  leftIn,
  MAX_U64,
  records,
  rightIn,
  run,
  symbolizer,
  UDP_RCV,
} from "./records.js";

/** `%-20zu %03u %24.24s %32.32s` */
const row = (ts: bigint, cpu: string, mod: string, fn: string) =>
  `${leftIn(ts.toString(), 20)} ${cpu} ${rightIn(mod, 24)} ${rightIn(fn, 32)}`;

test("aggregate: the header is ipftrace2's `%-20s %3.3s %24.24s %32.32s`", () => {
  assert.equal(
    AGGREGATE_HEADER,
    `Timestamp${" ".repeat(11)} CPU ${" ".repeat(18)}Module ${" ".repeat(24)}Function`,
  );
});

test("aggregate: packets in order of first event, events by time, C-style columns", () => {
  const { out, w } = run("aggregate", [
    { skb: 0xbn, ts: 30n, func: UDP_RCV, cpu: 1 },
    { skb: 0xan, ts: 40n, func: IP_RCV, cpu: 0 },
    { skb: 0xbn, ts: 10n, func: IP_RCV, cpu: 0 },
    { skb: 0xan, ts: 50n, func: LONG, cpu: 2 },
    // Arrives last but happened first: its packet prints first.
    { skb: 0xcn, ts: 5n, func: 0x1234n, cpu: 17 },
    // Same timestamp as the event before it in packet 0xa: arrival order breaks the tie.
    { skb: 0xan, ts: 50n, func: IP_RCV, cpu: 345 },
  ]);
  assert.equal(w.count, 6);
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      // Packet ids by arrival, packets printed by time.
      "=== packet 3, skb 0xc",
      row(5n, "017", "(unknown)", "(unknown)"),
      "=== packet 1, skb 0xb",
      row(10n, "000", "vmlinux", "ip_rcv"),
      row(30n, "001", "vmlinux", "udp_rcv"),
      "=== packet 2, skb 0xa",
      row(40n, "000", "vmlinux", "ip_rcv"),
      row(50n, "002", "a_module_name_longer_tha", "a_function_name_longer_than_thir"),
      row(50n, "345", "vmlinux", "ip_rcv"),
      "",
    ].join("\n"),
  );
  // Spelled out once, so the helper itself is checked too.
  assert.equal(LONG_MODULE.slice(0, 24), "a_module_name_longer_tha");
  assert.equal(LONG_FUNC.slice(0, 32), "a_function_name_longer_than_thir");
  assert.equal(
    out.split("\n")[4],
    "10                   000                  vmlinux                           ip_rcv",
  );
});

test("aggregate: 64-bit timestamps print exactly, 20 digits fill the column", () => {
  const { out } = run("aggregate", [
    { skb: 1n, ts: MAX_U64, func: IP_RCV, cpu: 0 },
    { skb: 1n, ts: BIG_TS, func: IP_RCV, cpu: 0 },
    { skb: 1n, ts: BIG_TS + 1n, func: IP_RCV, cpu: 0 },
  ]);
  const lines = out.split("\n");
  assert.equal(lines[2], `1152921504606846979  000 ${rightIn("vmlinux", 24)} ${rightIn("ip_rcv", 32)}`);
  assert.equal(lines[3], row(BIG_TS + 1n, "000", "vmlinux", "ip_rcv"));
  assert.equal(lines[4], `18446744073709551615 000 ${rightIn("vmlinux", 24)} ${rightIn("ip_rcv", 32)}`);
});

test("aggregate: one group per skb address, even when it is reused; addresses equal in 32 bits differ", () => {
  const { out } = run("aggregate", [
    { skb: 0xffff888000001000n, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: 0xffff999000001000n, ts: 2n, func: IP_RCV, cpu: 0 },
    { skb: 0x1000n, ts: 3n, func: IP_RCV, cpu: 0 },
    // Much later, the first address again (a new packet in the same sk_buff): same group.
    { skb: 0xffff888000001000n, ts: 1000n, func: UDP_RCV, cpu: 0 },
  ]);
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      "=== packet 1, skb 0xffff888000001000",
      row(1n, "000", "vmlinux", "ip_rcv"),
      row(1000n, "000", "vmlinux", "udp_rcv"),
      "=== packet 2, skb 0xffff999000001000",
      row(2n, "000", "vmlinux", "ip_rcv"),
      "=== packet 3, skb 0x1000",
      row(3n, "000", "vmlinux", "ip_rcv"),
      "",
    ].join("\n"),
  );
});

test("aggregate: with track ids, a reused address is two packets and a tracked packet one group", () => {
  const skb = 0xffff888000001000n;
  const { out } = run("aggregate", [
    { skb, ts: 1n, func: IP_RCV, cpu: 0, track: 1n },
    // Another packet in the same sk_buff, no verdict seen in between: its own track id.
    { skb, ts: 5n, func: IP_RCV, cpu: 0, track: 5n },
    { skb, ts: 2n, func: UDP_RCV, cpu: 0, track: 1n },
    { skb, ts: 6n, func: UDP_RCV, cpu: 0, track: 5n },
  ]);
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      "=== packet 1, skb 0xffff888000001000",
      row(1n, "000", "vmlinux", "ip_rcv"),
      row(2n, "000", "vmlinux", "udp_rcv"),
      "=== packet 2, skb 0xffff888000001000",
      row(5n, "000", "vmlinux", "ip_rcv"),
      row(6n, "000", "vmlinux", "udp_rcv"),
      "",
    ].join("\n"),
  );
});

test("aggregate: grouping and ordering agree with a plain reference on 50k shuffled traces", () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const evs: Ev[] = [];
  for (let i = 0; i < 50_000; i++) {
    const p = rnd(3000);
    evs.push({
      skb: 0xffff888000000000n + BigInt(p % 1500) * 256n + (p >= 1500 ? 0x100000000n : 0n),
      ts: 2n ** 55n + BigInt(rnd(1 << 30)),
      func: rnd(2) ? IP_RCV : UDP_RCV,
      cpu: rnd(4),
    });
  }
  const { out } = run("aggregate", evs);
  // Reference: group by skb (numbered by first arrival), sort by (ts, arrival), packets by their first
  // event.
  const groups = new Map<bigint, { ev: Ev; i: number }[]>();
  const ids = new Map<bigint, number>();
  evs.forEach((ev, i) => {
    if (!ids.has(ev.skb)) ids.set(ev.skb, ids.size + 1);
    const g = groups.get(ev.skb) ?? [];
    g.push({ ev, i });
    groups.set(ev.skb, g);
  });
  const cmp = (a: { ev: Ev; i: number }, b: { ev: Ev; i: number }) =>
    a.ev.ts < b.ev.ts ? -1 : a.ev.ts > b.ev.ts ? 1 : a.i - b.i;
  const sorted = [...groups.values()].map((g) => g.sort(cmp)).sort((a, b) => cmp(a[0]!, b[0]!));
  const want = [AGGREGATE_HEADER];
  for (const g of sorted) {
    const skb = g[0]!.ev.skb;
    want.push(`=== packet ${ids.get(skb)}, skb 0x${skb.toString(16)}`);
    for (const { ev } of g)
      want.push(
        row(ev.ts, String(ev.cpu).padStart(3, "0"), "vmlinux", ev.func === IP_RCV ? "ip_rcv" : "udp_rcv"),
      );
  }
  assert.equal(out, `${want.join("\n")}\n`);
});

test("aggregate: the script's text follows the row after a space; tables as ( k: v )", () => {
  const dump = (d: Uint8Array) => (d[0] === 1 ? "len=1" : d[0] === 2 ? { len: 2, dev: "lo" } : undefined);
  const evs = [3, 1, 2].map((i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0, data: i }));
  const { out } = run("aggregate", evs, { dumper: functionDumper(dump) });
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      "=== packet 1, skb 0x1",
      `${row(1n, "000", "vmlinux", "ip_rcv")} len=1`,
      `${row(2n, "000", "vmlinux", "ip_rcv")} ( len: 2 dev: lo )`,
      row(3n, "000", "vmlinux", "ip_rcv"),
      "",
    ].join("\n"),
  );
});

test("aggregate: dump() runs in blocks of records in print order, failures are counted", () => {
  const calls: number[] = [];
  const dumper = {
    dump: () => {
      throw new Error("not used");
    },
    dumpFormattedMany: (recs: Uint8Array, format: string) => {
      assert.equal(format, "text");
      calls.push(recs.length / 64);
      return Array.from({ length: recs.length / 64 }, (_, i) =>
        recs[i * 64] === 7 ? new Error("dump() failed: boom") : `d${recs[i * 64]}`,
      );
    },
  };
  const n = 5000;
  const evs = Array.from({ length: n }, (_, i) => ({
    skb: 1n,
    ts: BigInt(n - i), // reverse arrival: print order differs from storage order
    func: IP_RCV,
    cpu: 0,
    data: i % 200,
  }));
  const { out, err } = run("aggregate", evs, { dumper });
  assert.deepEqual(calls, [4096, 904]);
  const lines = out.split("\n");
  assert.equal(lines[2], `${row(1n, "000", "vmlinux", "ip_rcv")} d${(n - 1) % 200}`);
  assert.equal(lines[n + 1], `${row(BigInt(n), "000", "vmlinux", "ip_rcv")} d0`);
  const failed = evs.filter((e) => e.data === 7).length;
  assert.equal(lines.filter((l) => l.endsWith("ip_rcv")).length, failed);
  assert.equal(err, `ipft: dump() failed on ${failed} traces; first error: dump() failed: boom\n`);
});

test("aggregate: maxTraces stores the first N, counts the rest, and says so at the end", () => {
  const evs = [5, 4, 3, 2, 1].map((i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0 }));
  const { w, err, out } = run("aggregate", evs, { maxTraces: 3 });
  assert.equal(w.count, 3);
  assert.equal(w.overflow, 2);
  assert.equal(err, "ipft: stored the first 3 traces only (--max-traces); 2 more were not stored\n");
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      "=== packet 1, skb 0x1",
      ...[3n, 4n, 5n].map((t) => row(t, "000", "vmlinux", "ip_rcv")),
      "",
    ].join("\n"),
  );
  assert.equal(run("aggregate", evs, { maxTraces: 5 }).err, "");
});

test("aggregate function_graph: `%-64.64s` names indented by depth; returns close with }", () => {
  const graph = (evs: Ev[]) => run("aggregate", evs, { graph: true }).out.split("\n").slice(2, -1);
  const g = (ts: bigint, fn: string, mod = "vmlinux") =>
    `${leftIn(ts.toString(), 20)} 000 ${rightIn(mod, 24)} ${leftIn(fn, 64)}`;
  assert.deepEqual(
    graph([
      { skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 },
      { skb: 1n, ts: 2n, func: UDP_RCV, cpu: 0 },
      { skb: 1n, ts: 4n, func: IP_RCV, cpu: 0, ret: true },
      { skb: 1n, ts: 3n, func: UDP_RCV, cpu: 0, ret: true },
      { skb: 1n, ts: 5n, func: UDP_RCV, cpu: 0 },
      { skb: 1n, ts: 6n, func: UDP_RCV, cpu: 0, ret: true },
    ]),
    [g(1n, "ip_rcv() {"), g(2n, "  udp_rcv() {"), g(3n, "  }"), g(4n, "}"), g(5n, "udp_rcv() {"), g(6n, "}")],
  );
  // A return without its call stays at depth 0; depth is per packet; long names are cut at 64.
  const deep = Array.from({ length: 20 }, (_, i) => ({ skb: 2n, ts: BigInt(10 + i), func: LONG, cpu: 0 }));
  const lines = graph([{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0, ret: true }, ...deep]);
  assert.equal(lines[0], g(1n, "}"));
  assert.equal(lines[1], "=== packet 2, skb 0x2");
  assert.equal(lines[2], g(10n, `${LONG_FUNC}() {`, LONG_MODULE));
  assert.equal(lines[3], g(11n, `  ${LONG_FUNC}() {`.slice(0, 64), LONG_MODULE));
  assert.equal(lines[3]!.length, 20 + 1 + 3 + 1 + 24 + 1 + 64);
  assert.equal(lines[21], g(29n, `${"  ".repeat(19)}${LONG_FUNC}`.slice(0, 64), LONG_MODULE));
});

test("aggregate: nothing stored prints nothing", () => {
  const { out, err } = run("aggregate", []);
  assert.equal(out, "");
  assert.equal(err, "");
});

test("aggregate: progress `Got N traces` is redrawn in place while tracing, and ends with a newline", async () => {
  let err = "";
  const w = createWriter("aggregate", {
    out: { write: () => {} },
    err: { write: (s: string) => (err += s) },
    symbolizer,
    progress: true,
  });
  // The interval is fixed at 100 ms by createWriter.
  const dv = records([{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 }]);
  w.write(dv, 0, 1);
  w.write(dv, 0, 1);
  assert.equal(err, "", "not drawn per trace");
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(err, "\rGot 2 traces", "drawn once: redrawn only when the count changed");
  w.write(dv, 0, 1);
  w.finish();
  assert.equal(err, "\rGot 2 traces\rGot 3 traces\n");
  const quiet = run("aggregate", [{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 }], { progress: false });
  assert.equal(quiet.err, "");
});
