// -w FILE's cost per event next to -o json and -o stream, in the same run: synthetic records (a ring's
// worth, timestamps beyond 2^53, a drop verdict on each packet's last event) through the real writer path
// (createWriter for the text outputs, PcapngOutput with a drain's flush every 1024 events for -w), each into
// a file. Events/s and user-space CPU per event; then tshark's own rate reading the pcapng file, as context.
// Goal: -w costs no more CPU per event than -o json.
//   node dist/bench/pcapng-out-bench.js [events]
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWriter, numbered, type OutputName, PcapngOutput, type Writer } from "../src/output/index.js";
import { MonotonicClock } from "../src/pcapng/clock.js";
import { openBlockSink } from "../src/pcapng/sinks.js";
import { VERDICT_DROP } from "../src/record/record.js";

const N = Number(process.argv[2] ?? 500_000);
const DRAIN = 1024;
const dir = mkdtempSync(join(tmpdir(), "ipft-pcapng-out-bench-"));

const RING = 1024;
const ring = new DataView(new ArrayBuffer(RING * 128));
const T0 = 2n ** 53n + 12345n;
for (let i = 0; i < RING; i++) {
  const o = i * 128;
  ring.setBigUint64(o, 0xffff888000000000n + BigInt((i >> 4) * 256), true);
  ring.setBigUint64(o + 8, T0 + BigInt(i * 1000), true);
  ring.setBigUint64(o + 16, 0xffffffff81000000n + BigInt((i & 15) * 64), true);
  ring.setUint32(o + 24, i & 3, true);
  if ((i & 15) === 15) {
    ring.setUint32(o + 32, VERDICT_DROP, true);
    ring.setUint32(o + 36, 2, true);
    ring.setBigUint64(o + 40, 0xffffffff81100000n + 0x4bcn, true);
  }
}
const symbolizer = {
  resolve: (a: bigint) => ({ name: `ip_function_${Number(a & 0xfffn)}`, module: "vmlinux" }),
};
const verdicts = {
  reason: (v: number) => (v === 2 ? "NO_SOCKET" : String(v)),
  location: (a: bigint) => `__udp4_lib_rcv+0x${(a - 0xffffffff81100000n).toString(16)}`,
};
const clock = MonotonicClock.measure();

/** A text output into a file, as ipft's stdout redirected to one. */
function fileSink(path: string) {
  const fd = openSync(path, "w");
  return { write: (s: string) => writeSync(fd, s), close: () => closeSync(fd) };
}

interface Result {
  rate: number;
  userNsPerEvent: number;
  bytes: number;
}

function measure(
  make: (path: string) => { w: Writer; drained?: () => void; close?: () => void },
  path: string,
): Result {
  // Each event numbered (its packet id) as the ring's reader does.
  const warm = make(join(dir, "warm"));
  const warmFeed = numbered(warm.w);
  for (let i = 0; i < 50_000; i++) warmFeed(ring, (i & (RING - 1)) * 128);
  warm.w.finish();
  warm.close?.();
  const { w, drained, close } = make(path);
  const feed = numbered(w);
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    feed(ring, (i & (RING - 1)) * 128);
    if ((i & (DRAIN - 1)) === DRAIN - 1) drained?.();
  }
  w.finish();
  close?.();
  const sec = (performance.now() - t) / 1000;
  const user = process.cpuUsage(cpu).user * 1000;
  return { rate: N / sec, userNsPerEvent: user / N, bytes: statSync(path).size };
}

const text = (kind: OutputName) => (path: string) => {
  const s = fileSink(path);
  return { w: createWriter(kind, { out: s, symbolizer, verdicts, progress: false }), close: s.close };
};
const pcapng = (path: string) => {
  const out = new PcapngOutput(openBlockSink(path), { clock, userappl: "ipft bench", tracer: "function" });
  out.start({ symbolizer, verdicts });
  return { w: out, drained: () => out.drained(0) };
};

try {
  const results: [string, Result][] = [
    ["-o json", measure(text("json"), join(dir, "out.json"))],
    ["-o stream", measure(text("stream"), join(dir, "out.txt"))],
    ["-w FILE (pcapng)", measure(pcapng, join(dir, "out.pcapng"))],
  ];
  const fmt = (n: number) => Math.round(n).toLocaleString("en");
  console.log(`${N.toLocaleString("en")} synthetic events each, into files (${dir})`);
  console.log("output            |     events/s | user CPU ns/event | bytes/event");
  console.log("------------------|--------------|-------------------|------------");
  for (const [k, r] of results)
    console.log(
      `${k.padEnd(17)} | ${fmt(r.rate).padStart(12)} | ${r.userNsPerEvent.toFixed(0).padStart(17)} | ${(r.bytes / N).toFixed(0).padStart(11)}`,
    );
  const json = results[0]![1];
  const pc = results[2]![1];
  console.log(
    `pcapng / json user CPU per event: ${(pc.userNsPerEvent / json.userNsPerEvent).toFixed(2)} (goal <= 1.00)`,
  );
  const t = performance.now();
  const r = spawnSync("tshark", ["-r", join(dir, "out.pcapng"), "-T", "fields", "-e", "frame.number"], {
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) console.log(`tshark: not measured (${r.error?.message ?? r.stderr.trim()})`);
  else
    console.log(
      `tshark -r reads the file at ${fmt(N / ((performance.now() - t) / 1000))} frames/s (context)`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
