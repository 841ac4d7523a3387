import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { AGGREGATE_HEADER, createWriter, type DumpResult, functionDumper } from "../../src/output/index.js";

interface Ev {
  skb: bigint;
  ts: bigint;
  func: bigint;
  cpu: number;
  ret?: boolean;
  data?: number;
}

/** Records laid out as the eBPF program writes them, one after another in one buffer. */
function records(evs: Ev[]): DataView {
  const dv = new DataView(new ArrayBuffer(evs.length * 128));
  evs.forEach((e, i) => {
    const o = i * 128;
    dv.setBigUint64(o, e.skb, true);
    dv.setBigUint64(o + 8, e.ts, true);
    dv.setBigUint64(o + 16, e.func, true);
    dv.setUint32(o + 24, e.cpu, true);
    dv.setUint32(o + 28, e.ret ? 1 : 0, true);
    dv.setUint32(o + 64, e.data ?? 0, true);
  });
  return dv;
}

const NAMES = new Map<bigint, { name: string; module: string }>([
  [1n, { name: "ip_rcv", module: "vmlinux" }],
  [2n, { name: "udp_rcv", module: "vmlinux" }],
  [3n, { name: "a_function_name_longer_than_thirty_two_chars", module: "a_module_name_longer_than_24" }],
]);
const symbolizer = { resolve: (a: bigint) => NAMES.get(a) };

function run(
  kind: "aggregate" | "stream" | "json",
  evs: Ev[],
  extra: { dump?: (d: Uint8Array) => DumpResult; maxTraces?: number; graph?: boolean } = {},
) {
  let out = "";
  let err = "";
  const w = createWriter(kind, {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    symbolizer,
    ...(extra.dump ? { dumper: functionDumper(extra.dump) } : {}),
    ...(extra.maxTraces ? { maxTraces: extra.maxTraces } : {}),
    ...(extra.graph ? { graph: true } : {}),
  });
  const dv = records(evs);
  for (let i = 0; i < evs.length; i++) w.write(dv, i * 128);
  w.finish();
  w.report({ write: (s: string) => (err += s) });
  return { out, err, w };
}

const BIG_TS = 2n ** 60n + 3n; // beyond 2^53: must print exactly

test("stream: one line per event with the skb, timestamp, cpu, module and function", () => {
  const { out } = run("stream", [
    { skb: 0xffff888012345678n, ts: BIG_TS, func: 1n, cpu: 1 },
    { skb: 0xffff888012345678n, ts: 5n, func: 9n, cpu: 123 },
  ]);
  assert.equal(
    out,
    `0xffff888012345678 ${BIG_TS} 001 vmlinux ip_rcv\n0xffff888012345678 5 123 (unknown) (unknown)\n`,
  );
});

test("stream and json carry dump() output; a table prints as ( k: v )", () => {
  const dump = (d: Uint8Array) => ({ len: d[0]!, dev: "lo" });
  const s = run("stream", [{ skb: 1n, ts: 1n, func: 1n, cpu: 0, data: 42 }], { dump });
  assert.equal(s.out, "0x1 1 000 vmlinux ip_rcv ( len: 42 dev: lo )\n");
  const j = run("json", [{ skb: 1n, ts: 1n, func: 1n, cpu: 0, data: 42 }], { dump });
  assert.deepEqual(JSON.parse(j.out), {
    packet_id: "0x1",
    timestamp: 1,
    processor_id: 0,
    module: "vmlinux",
    function: "ip_rcv",
    is_return: false,
    len: 42,
    dev: "lo",
  });
  const t = run("json", [{ skb: 1n, ts: 1n, func: 1n, cpu: 0 }], { dump: () => "free text" });
  assert.equal(JSON.parse(t.out).data, "free text");
});

test("json: exact 64-bit timestamps, is_return, valid for JSON.parse and jq", () => {
  const { out } = run("json", [
    { skb: 0xffff888012345678n, ts: BIG_TS, func: 1n, cpu: 3 },
    { skb: 0xffff888012345678n, ts: 7n, func: 3n, cpu: 3, ret: true },
  ]);
  const lines = out.trim().split("\n");
  assert.equal(
    lines[0],
    `{"packet_id":"0xffff888012345678","timestamp":${BIG_TS},"processor_id":3,"module":"vmlinux","function":"ip_rcv","is_return":false}`,
  );
  assert.equal(JSON.parse(lines[1]!).is_return, true);
  // jq parses every line (it rounds integers beyond 2^53 itself: the exact digits are checked above).
  const jq = spawnSync("jq", ["-c", ".function"], { input: out, encoding: "utf8" });
  if (jq.error) return; // jq missing: JSON.parse above still checked the syntax
  assert.equal(jq.status, 0, jq.stderr);
  assert.deepEqual(jq.stdout.trim().split("\n"), [
    '"ip_rcv"',
    '"a_function_name_longer_than_thirty_two_chars"',
  ]);
});

test("aggregate: header, packets in order of first event, events by time, C-style columns", () => {
  const { out } = run("aggregate", [
    { skb: 0xbn, ts: 30n, func: 2n, cpu: 1 },
    { skb: 0xan, ts: 40n, func: 1n, cpu: 0 },
    { skb: 0xbn, ts: 10n, func: 1n, cpu: 0 },
    { skb: 0xan, ts: 50n, func: 3n, cpu: 2 },
  ]);
  const fit = (s: string, w: number) => (s.length > w ? s.slice(0, w) : s.padStart(w));
  const row = (ts: string, cpu: string, mod: string, fn: string) =>
    `${ts.padEnd(20)} ${cpu} ${fit(mod, 24)} ${fit(fn, 32)}`;
  assert.equal(
    out,
    [
      AGGREGATE_HEADER,
      "===",
      row("10", "000", "vmlinux", "ip_rcv"),
      row("30", "001", "vmlinux", "udp_rcv"),
      "===",
      row("40", "000", "vmlinux", "ip_rcv"),
      row("50", "002", "a_module_name_longer_tha", "a_function_name_longer_than_thir"),
      "",
    ].join("\n"),
  );
  assert.equal(
    AGGREGATE_HEADER,
    "Timestamp            CPU                   Module                         Function",
  );
});

test("aggregate: dump text after the row; failures reported once with their count", () => {
  let n = 0;
  const { out, err } = run(
    "aggregate",
    [1, 2, 3].map((i) => ({ skb: 1n, ts: BigInt(i), func: 1n, cpu: 0, data: i })),
    {
      dump: (d) => {
        if (++n === 2) throw new Error("dump() failed: x.lua:3: boom");
        return `v=${d[0]}`;
      },
    },
  );
  assert.match(out, /ip_rcv v=1\n/);
  assert.match(out, /ip_rcv\n/);
  assert.match(out, /ip_rcv v=3\n/);
  assert.equal(err, "ipft: dump() failed on 1 trace; first error: dump() failed: x.lua:3: boom\n");
});

test("aggregate: --max-traces stops storing and says so", () => {
  const { w, err, out } = run(
    "aggregate",
    [1, 2, 3, 4].map((i) => ({ skb: 1n, ts: BigInt(i), func: 1n, cpu: 0 })),
    { maxTraces: 3 },
  );
  assert.equal(w.count, 3);
  assert.equal(w.dropped, 1);
  assert.match(err, /stopped storing after 3 traces \(--max-traces\); 1 more were not stored/);
  assert.equal(out.split("\n").filter((l) => l.includes("ip_rcv")).length, 3);
});

test("aggregate function_graph: indented calls and returns", () => {
  const { out } = run(
    "aggregate",
    [
      { skb: 1n, ts: 1n, func: 1n, cpu: 0 },
      { skb: 1n, ts: 2n, func: 2n, cpu: 0 },
      { skb: 1n, ts: 3n, func: 2n, cpu: 0, ret: true },
      { skb: 1n, ts: 4n, func: 1n, cpu: 0, ret: true },
    ],
    { graph: true },
  );
  const names = out
    .split("\n")
    .slice(2, 6)
    .map((l) => l.slice(20 + 1 + 3 + 1 + 24 + 1).trimEnd());
  assert.deepEqual(names, ["ip_rcv() {", "  udp_rcv() {", "  }", "}"]);
});
