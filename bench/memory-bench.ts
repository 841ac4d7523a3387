// Aggregate output's memory per trace for 1M synthetic traces (with and without the script's 64 data bytes),
// and formatting speed of the stream and json writers. Run with --expose-gc for exact numbers.
//   node --expose-gc dist/bench/memory-bench.js [traces]
import { createWriter } from "../src/output/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const used = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// A ring's worth of records: 64 packets of 16 events each, repeated with new timestamps.
const ring = new DataView(new ArrayBuffer(1024 * 128));
for (let i = 0; i < 1024; i++) {
  ring.setBigUint64(i * 128, 0xffff888000000000n + BigInt((i >> 4) * 256), true);
  ring.setBigUint64(i * 128 + 16, 0xffffffff81000000n + BigInt((i & 15) * 64), true);
  ring.setUint32(i * 128 + 24, i & 1, true);
}
const symbolizer = { resolve: (a: bigint) => ({ name: `fn_${Number(a & 0xfffn)}`, module: "vmlinux" }) };
const nul = { write: () => {} };

function store(withData: boolean): number {
  const before = used();
  const w = createWriter("aggregate", {
    out: nul,
    symbolizer,
    maxTraces: N,
    ...(withData ? { dumper: { dumpFormatted: () => "" } } : {}),
  });
  for (let i = 0; i < N; i++) {
    const off = (i & 1023) * 128;
    ring.setBigUint64(off + 8, BigInt(i), true);
    w.write(ring, off);
  }
  const bytes = (used() - before) / N;
  if (w.count !== N) throw new Error("not all stored");
  return bytes;
}

function rate(kind: "stream" | "json"): number {
  let bytes = 0;
  const w = createWriter(kind, { out: { write: (s: string) => (bytes += s.length) }, symbolizer });
  const t = performance.now();
  for (let i = 0; i < N; i++) w.write(ring, (i & 1023) * 128);
  w.finish();
  return N / ((performance.now() - t) / 1000);
}

console.log(
  `aggregate store, ${N.toLocaleString("en")} traces${(globalThis as { gc?: unknown }).gc ? "" : " (no --expose-gc: rough)"}`,
);
console.log(`  without script data  ${store(false).toFixed(1)} bytes/trace (goal <= 160)`);
console.log(`  with 64 data bytes   ${store(true).toFixed(1)} bytes/trace`);
console.log("formatting (symbol lookups included, output discarded)");
console.log(`  stream  ${Math.round(rate("stream")).toLocaleString("en")} events/s`);
console.log(`  json    ${Math.round(rate("json")).toLocaleString("en")} events/s`);
