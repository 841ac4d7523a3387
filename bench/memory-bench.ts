// Aggregate output's memory per stored trace for 1M synthetic traces (with and without the script's 64 data
// bytes), and the formatting speed of each writer (symbol lookups included, output discarded).
//   node --expose-gc dist/bench/memory-bench.js [traces]
import { createWriter, type Dumper, numbered, type OutputName } from "../src/output/index.js";
import { exactHeap, heldBytes } from "./heap.js";

const N = Number(process.argv[2] ?? 1_000_000);

// A ring's worth of records: 64 packets of 16 events each on 4 CPUs, with timestamps beyond 2^53 (ktime
// after 104 days of uptime) so the slow exact path is what is measured.
const RING = 1024;
const ring = new DataView(new ArrayBuffer(RING * 128));
const T0 = 2n ** 53n + 12345n;
for (let i = 0; i < RING; i++) {
  ring.setBigUint64(i * 128, 0xffff888000000000n + BigInt((i >> 4) * 256), true);
  ring.setBigUint64(i * 128 + 8, T0 + BigInt(i * 1000), true);
  ring.setBigUint64(i * 128 + 16, 0xffffffff81000000n + BigInt((i & 15) * 64), true);
  ring.setUint32(i * 128 + 24, i & 3, true);
}
const symbolizer = {
  resolve: (a: bigint) => ({ name: `ip_function_${Number(a & 0xfffn)}`, module: "vmlinux" }),
};
const nothing = { write: () => {} };
const emptyDump: Dumper = { dump: () => undefined };

function store(withData: boolean): { perTrace: number; printRate: number } {
  const before = heldBytes();
  const w = createWriter("aggregate", {
    out: nothing,
    err: nothing,
    symbolizer,
    maxTraces: N,
    progress: false,
    ...(withData ? { dumper: emptyDump } : {}),
  });
  const feed = numbered(w);
  for (let i = 0; i < N; i++) {
    const off = (i & (RING - 1)) * 128;
    // A new packet id every ring's worth, so there are N/16 packets.
    ring.setUint32(off + 4, 0xffff8880 + (i >>> 10), true);
    feed(ring, off);
  }
  const perTrace = (heldBytes() - before) / N;
  if (w.count !== N) throw new Error("not all stored");
  const t = performance.now();
  w.finish();
  const printRate = N / ((performance.now() - t) / 1000);
  return { perTrace, printRate };
}

function rate(kind: OutputName, dumper?: Dumper): number {
  let bytes = 0;
  const w = createWriter(kind, {
    out: { write: (s: string) => (bytes += s.length) },
    symbolizer,
    ...(dumper ? { dumper } : {}),
  });
  const feed = numbered(w);
  for (let i = 0; i < 50_000; i++) feed(ring, (i & (RING - 1)) * 128); // warm up
  const t = performance.now();
  for (let i = 0; i < N; i++) feed(ring, (i & (RING - 1)) * 128);
  w.finish();
  return N / ((performance.now() - t) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const plain = store(false);
const withData = store(true);
const rows: [string, string][] = [
  ["aggregate: bytes held per trace, no script (goal <= 160)", plain.perTrace.toFixed(1)],
  ["aggregate: bytes held per trace, with 64 data bytes", withData.perTrace.toFixed(1)],
  ["aggregate: print at finish, traces/s (no script)", fmt(plain.printRate)],
  ["stream: events/s formatted (goal > 500,000)", fmt(rate("stream"))],
  ["json: events/s formatted (goal > 500,000)", fmt(rate("json"))],
  ["stream with a table dump(), events/s", fmt(rate("stream", { dump: () => ({ len: 42, dev: "lo" }) }))],
  ["json with a table dump(), events/s", fmt(rate("json", { dump: () => ({ len: 42, dev: "lo" }) }))],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(
  `${N.toLocaleString("en")} synthetic traces${exactHeap ? "" : " (run with --expose-gc for exact memory)"}`,
);
console.log(`${"measure".padEnd(w)} | result`);
console.log(`${"-".repeat(w)}-|-${"-".repeat(12)}`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)} | ${v.padStart(12)}`);
