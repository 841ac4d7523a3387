// What the kernel-cost benchmarks share (verdict-cost.ts, identity-cost.ts): kernel time per program run
// from the kernel's own accounting (bpf_stats: run_time_ns / run_cnt per program, read with bpftool),
// while a tracer runs and the bundled sender sends marked UDP to a closed loopback port.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MARK = 0x2b;
const args = process.argv.slice(2);
export const SECONDS = args.includes("--seconds") ? Number(args[args.indexOf("--seconds") + 1]) : 3;
/** The tracepoints measured: two a packet passes, the two verdicts. */
export const POINTS = ["net_dev_queue", "netif_receive_skb", "kfree_skb", "consume_skb"];

interface Prog {
  name: string;
  type: string;
  run_time_ns?: number;
  run_cnt?: number;
}

export type Cost = { ns: number; cnt: number };
export type Costs = Map<string, Cost>;

/** Starts `tracer`, waits until `ready(stdout so far)` says it is attached, sends marked datagrams (and
 * `unmarked` unmarked ones for each) to a closed port, then reads the counters of the programs `match`
 * names, summed by the name it gives. */
export async function measure(
  tracer: string[],
  match: (p: Prog) => string | undefined,
  ready: (out: string) => boolean,
  unmarked: number,
): Promise<Costs> {
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
  const sender = [
    `${ROOT}dist/src/tools/send-marked.js`,
    ...["--mark", String(MARK), "--unmarked", String(unmarked), "--closed", "--port", "9991"],
    ...["--duration", String(SECONDS)],
  ];
  await new Promise<void>((resolve) =>
    spawn(process.execPath, sender, { stdio: "ignore" }).on("close", () => resolve()),
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

/** ipft on POINTS (tracepoint backend, the mark) with `extra` options: its programs' costs by point. */
export function measureIpft(extra: string[], unmarked: number): Promise<Costs> {
  const readyFile = `/tmp/ipft-kernel-cost-ready-${process.pid}`;
  rmSync(readyFile, { force: true });
  return measure(
    [
      process.execPath,
      `${ROOT}bin/ipft.js`,
      ...["-b", "tracepoint", "-r", `^(${POINTS.join("|")})$`, "-m", String(MARK), "-o", "json"],
      ...["--ready-file", readyFile, ...extra],
    ],
    (p) => POINTS.find((n) => p.name === `ipft_${n}`.slice(0, 15)),
    () => existsSync(readyFile),
    unmarked,
  );
}

/** bpftrace running `prog` (one probe per point of POINTS), when bpftrace is installed. */
export function measureBpftrace(prog: string, unmarked: number): Promise<Costs> | undefined {
  if (spawnSync("bpftrace", ["--version"]).status !== 0) return undefined;
  return measure(
    ["bpftrace", "-B", "line", "-e", prog],
    (p) => (p.type === "tracepoint" ? POINTS.find((n) => n.slice(0, 15) === p.name) : undefined),
    (out) => /Attaching/.test(out),
    unmarked,
  );
}

/** `tracepoint:CATEGORY:POINT` of a point of POINTS. */
export const bpftracePoint = (tp: string): string =>
  `tracepoint:${tp === "kfree_skb" || tp === "consume_skb" ? "skb" : "net"}:${tp}`;

/** Runs `body` with bpf_stats on (root only), then puts the setting back. */
export async function withBpfStats(name: string, body: () => Promise<void>): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log(`${name}: skipped (needs root)`);
    return;
  }
  const old = readFileSync("/proc/sys/kernel/bpf_stats_enabled", "latin1").trim();
  spawnSync("sysctl", ["-q", "-w", "kernel.bpf_stats_enabled=1"]);
  try {
    await body();
  } finally {
    spawnSync("sysctl", ["-q", "-w", `kernel.bpf_stats_enabled=${old}`]);
  }
}

/** ns per run, or "-" without runs. */
export const cell = (c: Cost | undefined): string => (c ? (c.ns / c.cnt).toFixed(0) : "-");
