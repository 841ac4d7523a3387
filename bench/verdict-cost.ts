// Kernel time per event of ipft's programs (bpf_stats: run_time_ns / run_cnt), mark-only programs next to
// the verdict programs (kfree_skb, consume_skb), on marked UDP sent to a closed loopback port (every packet
// is dropped) with unmarked traffic mixed in (the verdict tracepoints see every freed skb of the machine, so
// their mark test must stay first and cheap). Peer, same traffic and method: bpftrace on the same
// tracepoints with the same mark test. Needs root.
//   node dist/bench/verdict-cost.js [--seconds 3]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MARK = 0x2b;
const args = process.argv.slice(2);
const SECONDS = args.includes("--seconds") ? Number(args[args.indexOf("--seconds") + 1]) : 3;
const POINTS = ["net_dev_queue", "netif_receive_skb", "kfree_skb", "consume_skb"];

interface Prog {
  name: string;
  type: string;
  run_time_ns?: number;
  run_cnt?: number;
}

type Costs = Map<string, { ns: number; cnt: number }>;

/** Starts `tracer`, waits until `ready(stdout so far)` says it is attached, sends marked datagrams (and as
 * many unmarked) to a closed port, then reads the counters of the programs `match` names. */
async function measure(
  tracer: string[],
  match: (p: Prog) => string | undefined,
  ready: (out: string) => boolean,
) {
  const t = spawn(tracer[0]!, tracer.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  t.stdout.on("data", (d: Buffer) => (out = `${out}${d.toString()}`.slice(-4096)));
  t.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const start = Date.now();
  while (!ready(out)) {
    if (Date.now() - start > 60_000 || t.exitCode !== null)
      throw new Error(`${tracer[0]} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // The sender runs asynchronously: the tracer's output keeps being read (a full pipe would stall it).
  await new Promise<void>((resolve) =>
    spawn(
      process.execPath,
      [
        `${ROOT}dist/src/tools/send-marked.js`,
        "--mark",
        String(MARK),
        "--unmarked",
        "1",
        "--closed",
        "--port",
        "9991",
        "--duration",
        String(SECONDS),
      ],
      { stdio: "ignore" },
    ).on("close", () => resolve()),
  );
  const progs = JSON.parse(
    spawnSync("bpftool", ["prog", "show", "-j"], { encoding: "utf8" }).stdout,
  ) as Prog[];
  t.kill("SIGINT");
  await new Promise((r) => t.on("close", r));
  const by: Costs = new Map();
  for (const p of progs) {
    const k = match(p);
    if (!k || !p.run_cnt) continue;
    const e = by.get(k) ?? { ns: 0, cnt: 0 };
    e.ns += p.run_time_ns ?? 0;
    e.cnt += p.run_cnt;
    by.set(k, e);
  }
  return by;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("verdict-cost: skipped (needs root)");
    return;
  }
  const old = readFileSync("/proc/sys/kernel/bpf_stats_enabled", "latin1").trim();
  spawnSync("sysctl", ["-q", "-w", "kernel.bpf_stats_enabled=1"]);
  try {
    const readyFile = "/tmp/ipft-verdict-cost-ready";
    rmSync(readyFile, { force: true });
    const ipftRun = (extra: string[]) =>
      measure(
        [
          process.execPath,
          `${ROOT}bin/ipft.js`,
          "-b",
          "tracepoint",
          "-r",
          `^(${POINTS.join("|")})$`,
          "-m",
          String(MARK),
          "-o",
          "json",
          "--ready-file",
          readyFile,
          ...extra,
        ],
        (p) => POINTS.find((n) => p.name === `ipft_${n}`.slice(0, 15)),
        () => existsSync(readyFile),
      );
    // Tracking (the default) keeps a marked packet's entry up to date at every point; --no-track is the
    // mark test and the record alone, as bpftrace's program does.
    const ipft = await ipftRun([]);
    rmSync(readyFile, { force: true });
    const plain = await ipftRun(["--no-track"]);
    let bt: Costs | undefined;
    if (spawnSync("bpftrace", ["--version"]).status === 0) {
      // The same mark test on the same tracepoints, counting per point.
      const prog = POINTS.map(
        (tp, i) =>
          `tracepoint:${tp === "kfree_skb" || tp === "consume_skb" ? "skb" : "net"}:${tp} /((struct sk_buff *)args->skbaddr)->mark == ${MARK}/ { @[${i}] = count(); }`,
      ).join("\n");
      bt = await measure(
        ["bpftrace", "-B", "line", "-e", prog],
        (p) => (p.type === "tracepoint" ? POINTS.find((n) => n.slice(0, 15) === p.name) : undefined),
        (out) => /Attaching/.test(out),
      );
    }
    const cell = (c: { ns: number; cnt: number } | undefined) => (c ? (c.ns / c.cnt).toFixed(0) : "-");
    console.log(
      `\nkernel time per program run, ${SECONDS} s of UDP to a closed port (half of it marked), bpf_stats\n`,
    );
    console.log(
      `${"attach point".padEnd(20)} ${"ipft runs".padStart(10)} ${"ipft ns".padStart(8)} ${"--no-track ns".padStart(14)} ${"bpftrace ns".padStart(12)} ${"ratio".padStart(6)} ${"--no-track ratio".padStart(17)}`,
    );
    for (const n of POINTS) {
      const i = ipft.get(n);
      const q = plain.get(n);
      const b = bt?.get(n);
      const r = (x: { ns: number; cnt: number } | undefined) =>
        x && b ? (x.ns / x.cnt / (b.ns / b.cnt)).toFixed(2) : "-";
      console.log(
        `${n.padEnd(20)} ${String(i?.cnt ?? 0).padStart(10)} ${cell(i).padStart(8)} ${cell(q).padStart(14)} ${cell(b).padStart(12)} ${r(i).padStart(6)} ${r(q).padStart(17)}`,
      );
    }
  } finally {
    spawnSync("sysctl", ["-q", "-w", `kernel.bpf_stats_enabled=${old}`]);
  }
}

await main();
