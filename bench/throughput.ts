// Event throughput: marked UDP packets sent as fast as one core can over loopback, traced on two tracepoints
// (net_dev_queue and netif_receive_skb) by ipft and, in the same run, by bpftrace with the same mark filter.
// Reports traces/s drained, user-space CPU per trace, and lost traces. Needs root.
//   node dist/bench/throughput.js [--seconds 5] [--rate 100000]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { lostFromStderr } from "../src/output/unseen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MARK = 0x2a;
const args = process.argv.slice(2);
const opt = (k: string, d: number) => {
  const i = args.indexOf(k);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const SECONDS = opt("--seconds", 5);
// Packets per second; 0 = as fast as the sender can. Two tracepoints: twice as many traces.
let RATE = 0;
const TICK = 100; // clock ticks per second (USER_HZ)

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}

interface Result {
  tool: string;
  traces: number;
  lost: number;
  cpu: number;
  seconds: number;
  sent: number;
}

/** The sender runs as a child while this process keeps reading the tracer's output: a synchronous spawn
 * would stop reading, the tracer's stdout pipe would fill, and a tracer that writes with blocking writes
 * (bpftrace) would stall and lose events that are not its fault. */
function flood(): Promise<{ sent: number }> {
  const p = spawn(
    process.execPath,
    [
      `${ROOT}dist/src/tools/send-marked.js`,
      "--mark",
      String(MARK),
      "--duration",
      String(SECONDS),
      ...(RATE ? ["--rate", String(RATE)] : []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) =>
    p.on("close", () => resolve({ sent: Number(/sent (\d+)/.exec(err)?.[1] ?? 0) })),
  );
}

async function measure(
  tool: string,
  cmd: string[],
  ready: (out: string, err: string) => boolean,
  count: (lines: string, err: string, out: string) => { traces: number; lost: number },
): Promise<Result> {
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let lines = 0;
  let tail = "";
  p.stdout.setEncoding("latin1");
  p.stdout.on("data", (d: string) => {
    for (let i = d.indexOf("\n"); i >= 0; i = d.indexOf("\n", i + 1)) lines++;
    if (out.length < 1 << 16) out += d;
    tail = (tail + d).slice(-4096);
  });
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const t0 = Date.now();
  while (!ready(out, err)) {
    if (Date.now() - t0 > 60_000 || p.exitCode !== null) throw new Error(`${tool} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu0 = cpuSeconds(p.pid!);
  const w0 = Date.now();
  const { sent } = await flood();
  // Let each tool drain what it has buffered: stop once its output has been quiet for a second (or 60 s).
  let last = -1;
  let quietSince = Date.now();
  const drainEnd = Date.now() + 60_000;
  while (Date.now() < drainEnd) {
    await new Promise((r) => setTimeout(r, 200));
    if (lines !== last) {
      last = lines;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 1000) break;
  }
  const cpu1 = cpuSeconds(p.pid!);
  const seconds = (quietSince - w0) / 1000;
  p.kill("SIGINT");
  await new Promise((r) => p.on("close", r));
  if (process.env.BENCH_DEBUG)
    console.error(`${tool} tail:`, JSON.stringify(tail.slice(-300)), "err:", err.slice(-300));
  const c = count(`${lines}`, err, tail);
  return { tool, ...c, cpu: cpu1 - cpu0, seconds, sent };
}

/** Ready once `word` was printed, plus one second for attaching. */
function attachedSince(word: string): (out: string, err: string) => boolean {
  let seen = 0;
  return (out, err) => {
    if (!seen && (out.includes(word) || err.includes(word))) seen = Date.now();
    return seen > 0 && Date.now() - seen > 1000;
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("throughput: SKIP (needs root)");
    return;
  }
  const rates = process.argv.includes("--rate") ? [opt("--rate", 0)] : [0, 50_000];
  for (const r of rates) {
    RATE = r;
    await scenario();
  }
}

async function scenario(): Promise<void> {
  const results: Result[] = [];
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const readyFile = "/tmp/ipft-bench-ready";
  rmSync(readyFile, { force: true });
  if (only !== "bpftrace")
    results.push(
      await measure(
        "ipft",
        [
          process.execPath,
          `${ROOT}bin/ipft.js`,
          "-b",
          "tracepoint",
          "-r",
          "^(net_dev_queue|netif_receive_skb)$",
          "-m",
          String(MARK),
          "-o",
          "stream",
          "--ready-file",
          readyFile,
        ],
        () => existsSync(readyFile),
        (lines, err) => ({ traces: Number(lines), lost: lostFromStderr(err) }),
      ),
    );
  const bt = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
  if (only === "ipft") {
    // peer skipped on request
  } else if (bt.status === 0) {
    // The same work: both tracepoints, the same mark test on skb->mark, one line of text per event.
    const prog = ["net_dev_queue", "netif_receive_skb"]
      .map(
        (tp) =>
          `tracepoint:net:${tp} /((struct sk_buff *)args->skbaddr)->mark == ${MARK}/ { printf("%p %llu %03d ${tp}\\n", args->skbaddr, nsecs, cpu); }`,
      )
      .join(" ");
    results.push(
      await measure(
        "bpftrace",
        ["bpftrace", "-B", "full", "-e", prog],
        // "Attaching N probes..." comes before the probes are attached: give it a moment after.
        attachedSince("Attaching"),
        (lines, err) => ({
          traces: Number(lines) - 1,
          lost: Number(/Lost (\d+) events/.exec(err)?.[1] ?? 0),
        }),
      ),
    );
  } else {
    console.log("bpftrace: not installed (apt-get install bpftrace); no peer measured");
  }
  console.log(
    `\nthroughput, ${SECONDS} s of marked UDP over loopback${RATE ? ` at ${RATE}/s` : " as fast as one core sends"}, 2 tracepoints\n`,
  );
  console.log("tool       traces     traces/s   lost      user+sys CPU   CPU us/trace   sent packets");
  for (const r of results) {
    console.log(
      `${r.tool.padEnd(10)} ${String(r.traces).padEnd(10)} ${String(Math.round(r.traces / r.seconds)).padEnd(10)} ${String(r.lost).padEnd(9)} ${r.cpu.toFixed(2).padEnd(14)} ${((r.cpu / Math.max(1, r.traces)) * 1e6).toFixed(2).padEnd(14)} ${r.sent}`,
    );
  }
  if (results.length === 2) {
    const [a, b] = results as [Result, Result];
    const per = (r: Result) => r.cpu / Math.max(1, r.traces);
    console.log(
      `\nratio ipft/bpftrace: CPU per trace ${(per(a) / per(b)).toFixed(2)}x, traces/s ${(a.traces / a.seconds / (b.traces / b.seconds)).toFixed(2)}x`,
    );
  }
}

main().catch((e: Error) => {
  console.error(`throughput: ${e.message}`);
  process.exit(1);
});
