// --read of several files (src/merge/): memory and speed of merging three machines' traces. Writes three
// files with the -w writer (PcapngOutput): PACKETS UDP datagrams, one every SPACING ns, each seen at EVENTS
// events per machine, the router's copy masqueraded; then, in a fresh process each, reads them the way
// --read does (openInputs + mergeInto into a writer that prints nothing) and reports the peak RSS above a
// process that only loaded the code, and events merged per second. Peers on the same files, in the same
// run: `capinfos` (reads every block, holds nothing: the floor), and reading every file whole as --read of
// one file does (readPcapngFile + replayOf: what merging held before it streamed).
//   node dist/bench/merge-bench.js [PACKETS=200000] [EVENTS=4] [SPACING=10000]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openInputs } from "../src/merge/inputs.js";
import { HostTexts, mergeInto } from "../src/merge/merge.js";
import { PcapngOutput } from "../src/output/pcapng.js";
import { replayOf } from "../src/output/pcapng-replay.js";
import { MonotonicClock } from "../src/pcapng/clock.js";
import { readPcapngFile } from "../src/pcapng/reader.js";
import { openBlockSink } from "../src/pcapng/sinks.js";
import { LINK_NETWORK, RECORD_SIZE } from "../src/record/record.js";

const child = process.argv[2]?.startsWith("--") === true;
const args = child ? [] : process.argv.slice(2);
const EVENTS_PER_MACHINE = Number(args[1] ?? 4);
const SPACING = BigInt(args[2] ?? 10_000);
const FUNCS = [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n, 0xffffffff81000040n];

function datagram(src: number, sport: number, id: number): Uint8Array {
  const b = new Uint8Array(20 + 8 + 32);
  const dv = new DataView(b.buffer);
  b[0] = 0x45;
  dv.setUint16(2, b.length);
  dv.setUint16(4, id & 0xffff);
  b[8] = 64;
  b[9] = 17;
  dv.setUint32(12, src);
  dv.setUint32(16, 0x0a000202);
  dv.setUint16(20, sport);
  dv.setUint16(22, 9);
  dv.setUint16(24, 8 + 32);
  dv.setUint32(28, id); // the payload differs per datagram
  return b;
}

function writeMachine(path: string, host: string, n: number, nat: boolean): void {
  const out = new PcapngOutput(openBlockSink(path, { bufferBytes: 1 << 20 }), {
    clock: new MonotonicClock({ offsetNs: 1_700_000_000_000_000_000n, uncertaintyNs: 200n }),
    userappl: "ipft bench",
    tracer: "function",
    machine: { host, bootId: host },
  });
  out.start({ symbolizer: { resolve: (a) => ({ name: `f${a & 0xffn}`, module: "vmlinux" }) } });
  const rec = new Uint8Array(RECORD_SIZE + 64);
  const dv = new DataView(rec.buffer);
  for (let p = 0; p < n; p++) {
    const bytes = datagram(nat ? 0x0a000201 : 0x0a000102, nat ? 5000 : 4000, p);
    rec.fill(0);
    for (let e = 0; e < EVENTS_PER_MACHINE; e++) {
      dv.setBigUint64(0, 0xffff888100000000n + BigInt((p & 255) * 256), true);
      dv.setBigUint64(8, BigInt(p) * SPACING + BigInt(e), true);
      dv.setBigUint64(16, FUNCS[e % FUNCS.length]!, true);
      dv.setBigUint64(56, BigInt(p + 1), true); // track id
      dv.setUint32(48, bytes.length, true);
      dv.setUint16(52, bytes.length, true);
      dv.setUint8(54, LINK_NETWORK);
      rec.set(bytes, RECORD_SIZE);
      out.write(dv, 0, p + 1);
    }
  }
  out.finish();
}

const rssMiB = () => process.resourceUsage().maxRSS / 1024;

if (process.argv[2] === "--merge") {
  const files = process.argv.slice(3);
  const base = rssMiB();
  const t = performance.now();
  const inputs = openInputs(files);
  let written = 0;
  const w = { write: () => void written++, finish() {}, count: 0, overflow: 0 };
  const m = mergeInto(inputs, w, new HostTexts());
  const sec = (performance.now() - t) / 1000;
  const { peakHeld, events, packets, crossing } = m;
  console.log(JSON.stringify({ peak: rssMiB() - base, sec, events, packets, crossing, peakHeld }));
} else if (process.argv[2] === "--whole") {
  const files = process.argv.slice(3);
  const base = rssMiB();
  const t = performance.now();
  const held = files.map((f) => replayOf(readPcapngFile(f), f));
  const events = held.reduce((n, r) => n + r.count, 0);
  console.log(JSON.stringify({ peak: rssMiB() - base, sec: (performance.now() - t) / 1000, events }));
} else {
  const n = Number(args[0] ?? 200_000);
  const dir = mkdtempSync(join(tmpdir(), "ipft-merge-bench-"));
  const files = ["client", "router", "server"].map((h) => join(dir, `${h}.pcapng`));
  try {
    files.forEach((f, i) => {
      writeMachine(f, ["client", "router", "server"][i]!, n, i > 0);
    });
    const size = files.reduce((s, f) => s + statSync(f).size, 0) / 2 ** 20;
    const run = (mode: string) => {
      const r = spawnSync(process.execPath, [process.argv[1]!, mode, ...files], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Record<string, number>;
    };
    const m = run("--merge");
    const whole = run("--whole");
    // capinfos's whole peak RSS (it has no code of ours to subtract), by /usr/bin/time.
    const t = performance.now();
    const cap = spawnSync("/usr/bin/time", ["-f", "%M", "capinfos", "-c", ...files], { encoding: "utf8" });
    const capSec = (performance.now() - t) / 1000;
    const capMiB = cap.status === 0 ? Number(cap.stderr.trim().split("\n").pop()) / 1024 : Number.NaN;
    const ms = (Number(SPACING) / 1000).toFixed(0);
    console.log(
      `${n} datagrams x 3 machines x ${EVENTS_PER_MACHINE} events, one every ${ms} µs: ${m.events} events, ${size.toFixed(0)} MiB of files`,
    );
    console.log(
      `journeys: ${m.packets} (${m.crossing} across machines); at most ${m.peakHeld} events held at once`,
    );
    console.log(`merge, peak memory above the loaded code: ${m.peak!.toFixed(0)} MiB`);
    console.log(
      `  ${((m.peak! * 1e6) / m.packets!).toFixed(0)} MiB per million packets (${((m.peak! * 1e6) / m.events!).toFixed(0)} MiB per million events)`,
    );
    console.log(
      `  read + matched + merged: ${m.sec!.toFixed(1)} s, ${Math.round(m.events! / m.sec!)} events/s`,
    );
    console.log(
      `peer, the files read whole (as before streaming): ${whole.peak!.toFixed(0)} MiB above the loaded code, ${whole.sec!.toFixed(1)} s`,
    );
    console.log(
      cap.status === 0
        ? `peer, capinfos -c of the files: ${capMiB.toFixed(0)} MiB peak RSS (whole process), ${capSec.toFixed(1)} s`
        : `peer, capinfos: not run (${cap.error?.message ?? cap.stderr.trim()})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
