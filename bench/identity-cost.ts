// Kernel time per event of the packet identity (record/parts/identity.ts; bpf_stats: run_time_ns /
// run_cnt per program), on marked UDP sent to a closed loopback port (selected traffic only: the cost per selected event): ipft
// with identity (the default: at a packet's first event and where its device changes) next to
// --no-identity, both with tracking, and --no-track (identity at every selected event) next to
// --no-track --no-identity. Peer, same traffic and method: bpftrace on the same tracepoints with the same
// mark test, reading the same headers at every marked event (the device's ifindex, name and namespace,
// 128 bytes from the mac header) and printing them. Needs root.
//   node dist/bench/identity-cost.js [--seconds 3]
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
        "0",
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
    console.log("identity-cost: skipped (needs root)");
    return;
  }
  const old = readFileSync("/proc/sys/kernel/bpf_stats_enabled", "latin1").trim();
  spawnSync("sysctl", ["-q", "-w", "kernel.bpf_stats_enabled=1"]);
  try {
    const readyFile = "/tmp/ipft-identity-cost-ready";
    const ipftRun = (extra: string[]) => {
      rmSync(readyFile, { force: true });
      return measure(
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
    };
    const runs: [string, Costs][] = [
      ["identity", await ipftRun([])],
      ["no identity", await ipftRun(["--no-identity"])],
      ["no-track id", await ipftRun(["--no-track"])],
      ["no-track none", await ipftRun(["--no-track", "--no-identity"])],
    ];
    if (spawnSync("bpftrace", ["--version"]).status === 0) {
      const prog = POINTS.map(
        (tp, i) =>
          `tracepoint:${tp === "kfree_skb" || tp === "consume_skb" ? "skb" : "net"}:${tp} /((struct sk_buff *)args->skbaddr)->mark == ${MARK}/ { $s = (struct sk_buff *)args->skbaddr; $d = $s->dev; printf("%d %d %s %u %r\\n", ${i}, $d->ifindex, $d->name, $d->nd_net.net->ns.inum, buf($s->head + $s->mac_header, 128)); }`,
      ).join("\n");
      runs.push([
        "bpftrace",
        await measure(
          ["bpftrace", "-B", "line", "-e", prog],
          (p) => (p.type === "tracepoint" ? POINTS.find((n) => n.slice(0, 15) === p.name) : undefined),
          (out) => /Attaching/.test(out),
        ),
      ]);
    }
    const cell = (c: { ns: number; cnt: number } | undefined) => (c ? (c.ns / c.cnt).toFixed(0) : "-");
    console.log(`\nkernel ns per program run, ${SECONDS} s of marked UDP to a closed port, bpf_stats\n`);
    console.log(`${"attach point".padEnd(20)} ${runs.map(([n]) => n.padStart(14)).join(" ")}`);
    for (const n of POINTS)
      console.log(`${n.padEnd(20)} ${runs.map(([, c]) => cell(c.get(n)).padStart(14)).join(" ")}`);
    const all = (c: Costs) => {
      let ns = 0;
      let cnt = 0;
      for (const v of c.values()) {
        ns += v.ns;
        cnt += v.cnt;
      }
      return cnt ? ns / cnt : Number.NaN;
    };
    console.log(
      `${"all points".padEnd(20)} ${runs.map(([, c]) => all(c).toFixed(0).padStart(14)).join(" ")}`,
    );
    const a = (name: string) => all(runs.find(([n]) => n === name)![1]);
    console.log(
      `\nidentity / no identity: ${(a("identity") / a("no identity")).toFixed(2)} (tracking), ${(a("no-track id") / a("no-track none")).toFixed(2)} (--no-track)`,
    );
  } finally {
    spawnSync("sysctl", ["-q", "-w", `kernel.bpf_stats_enabled=${old}`]);
  }
}

await main();
