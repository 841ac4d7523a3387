// Kernel time of ipft's programs with and without extras (--snaplen, --stack), from the kernel's own
// accounting (kernel.bpf_stats_enabled: run_time_ns and run_cnt per program, read with bpftool), on the same
// marked traffic for each configuration; next to bpftrace taking a kernel stack (kstack) at kfree_skb on
// the same traffic, measured the same way. Needs root, bpftool; bpftrace for the peer.
//   node dist/bench/extras-bench.js [datagrams]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lostFromStderr } from "../src/output/unseen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IPFT = join(ROOT, "bin/ipft.js");
const SENDER = join(ROOT, "dist/src/tools/send-marked.js");
const COUNT = Math.max(100, Number(process.argv[2] ?? 20000));
const MARK = "0x3c51";
const PORT = "9677";
const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const PCAPNG = join(tmpdir(), `ipft-extras-bench-${process.pid}.pcapng`);

interface Prog {
  id: number;
  name?: string;
  type?: string;
  run_time_ns?: number;
  run_cnt?: number;
}

function progs(): Prog[] {
  const r = spawnSync("bpftool", ["prog", "show", "-j"], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bpftool prog show: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as Prog[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(): void {
  const r = spawnSync(
    process.execPath,
    [SENDER, "--mark", MARK, "--count", String(COUNT), "--closed", "--port", PORT],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`send-marked: ${r.stderr}`);
}

interface Result {
  label: string;
  runs: number;
  ns: number;
  events: number;
  dropRuns: number;
  dropNs: number;
  note: string;
}

async function measureIpft(label: string, extra: string[]): Promise<Result> {
  const ready = join(tmpdir(), `ipft-extras-bench-${process.pid}`);
  rmSync(ready, { force: true });
  // This run's programs are the ones that were not there before it (another ipft may be running).
  const before = new Set(progs().map((p) => p.id));
  const args = [
    IPFT,
    "-m",
    MARK,
    "-b",
    "tracepoint",
    "-o",
    "stream",
    "--ring-size",
    "64M",
    "--ready-file",
    ready,
  ];
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let events = 0;
  let tail = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    const t = tail + s;
    const lines = t.split("\n");
    tail = lines.pop()!;
    for (const l of lines) if (l.startsWith("0x")) events++;
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<number>((res) => child.on("exit", (c) => res(c ?? -1)));
  for (let i = 0; !existsSync(ready); i++) {
    if (i > 600 || child.exitCode !== null) throw new Error(`ipft did not get ready: ${err}`);
    await sleep(100);
  }
  send();
  await sleep(500);
  const ps = progs().filter((p) => !before.has(p.id) && p.name?.startsWith("ipft_"));
  child.kill("SIGINT");
  await exited;
  rmSync(ready, { force: true });
  const sum = (xs: Prog[], k: "run_time_ns" | "run_cnt") => xs.reduce((n, p) => n + (p[k] ?? 0), 0);
  const drop = ps.filter((p) => p.name === "ipft_kfree_skb");
  const lost = lostFromStderr(err);
  return {
    label,
    runs: sum(ps, "run_cnt"),
    ns: sum(ps, "run_time_ns"),
    events,
    dropRuns: sum(drop, "run_cnt"),
    dropNs: sum(drop, "run_time_ns"),
    note: lost > 0 ? `${lost} lost` : "",
  };
}

async function measureBpftrace(): Promise<Result | string> {
  if (spawnSync("sh", ["-c", "command -v bpftrace"]).status !== 0) return "bpftrace not installed";
  const before = new Set(progs().map((p) => p.id));
  const child = spawn("bpftrace", ["-e", "tracepoint:skb:kfree_skb { @[kstack] = count(); }"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let out = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
  const exited = new Promise<number>((res) => child.on("exit", (c) => res(c ?? -1)));
  let mine: Prog[] = [];
  for (let i = 0; i < 300 && mine.length === 0; i++) {
    if (child.exitCode !== null) return `bpftrace exited: ${out.trim()}`;
    await sleep(100);
    mine = progs().filter((p) => !before.has(p.id) && p.type === "tracepoint");
  }
  if (mine.length === 0) return "bpftrace's program did not show up";
  await sleep(300);
  const ids = new Set(mine.map((p) => p.id));
  const start = progs().filter((p) => ids.has(p.id));
  send();
  await sleep(500);
  const end = progs().filter((p) => ids.has(p.id));
  child.kill("SIGINT");
  await exited;
  const sum = (xs: Prog[], k: "run_time_ns" | "run_cnt") => xs.reduce((n, p) => n + (p[k] ?? 0), 0);
  const runs = sum(end, "run_cnt") - sum(start, "run_cnt");
  const ns = sum(end, "run_time_ns") - sum(start, "run_time_ns");
  return { label: "bpftrace kstack at kfree_skb", runs, ns, events: 0, dropRuns: runs, dropNs: ns, note: "" };
}

async function main(): Promise<void> {
  if (!existsSync(STATS)) throw new Error(`${STATS} is missing: this kernel cannot account BPF run time`);
  const was = readFileSync(STATS, "utf8").trim();
  writeFileSync(STATS, "1");
  try {
    const configs: [string, string[]][] = [
      ["no extras", []],
      ["--snaplen 128", ["--snaplen", "128"]],
      ["--snaplen 1500", ["--snaplen", "1500"]],
      ["--stack (drops)", ["--stack"]],
      ["--stack all", ["--stack", "all"]],
      ["--snaplen 128 --stack all", ["--snaplen", "128", "--stack", "all"]],
      // -w adds the device part (ifindex, namespace, name: 4 to 6 probe reads) to each record.
      ["-w --snaplen 128 (device)", ["--snaplen", "128", "-w", PCAPNG]],
    ];
    const results: Result[] = [];
    for (const [label, extra] of configs) results.push(await measureIpft(label, extra));
    const peer = await measureBpftrace();

    console.log(
      `${COUNT} marked UDP datagrams to a closed port over lo (each dropped at kfree_skb), tracepoint backend; ` +
        "kernel time from bpf_stats (every run of ipft's programs, marked or not)",
    );
    const base = results[0]!;
    const row = (cols: string[]) =>
      console.log(cols.map((c, i) => (i === 0 ? c.padEnd(28) : c.padStart(12))).join(" "));
    row(["", "runs", "ns/run", "events", "ns/event", "+ns/event", "kfree ns/run", ""]);
    for (const r of results) {
      const perEvent = r.events ? r.ns / r.events : 0;
      const extraPerEvent = r.events ? perEvent - base.ns / base.events : 0;
      row([
        r.label,
        String(r.runs),
        (r.ns / Math.max(1, r.runs)).toFixed(0),
        String(r.events),
        perEvent.toFixed(0),
        r === base ? "-" : extraPerEvent.toFixed(0),
        (r.dropNs / Math.max(1, r.dropRuns)).toFixed(0),
        r.note,
      ]);
    }
    if (typeof peer === "string") console.log(`peer: ${peer}`);
    else {
      row([
        peer.label,
        String(peer.runs),
        (peer.ns / Math.max(1, peer.runs)).toFixed(0),
        "-",
        "-",
        "-",
        (peer.dropNs / Math.max(1, peer.dropRuns)).toFixed(0),
        "",
      ]);
      const stack = results.find((r) => r.label === "--stack (drops)")!;
      console.log(
        `kfree_skb with a kernel stack: ipft ${(stack.dropNs / Math.max(1, stack.dropRuns)).toFixed(0)} ns/run, ` +
          `bpftrace kstack ${(peer.ns / Math.max(1, peer.runs)).toFixed(0)} ns/run`,
      );
    }
  } finally {
    writeFileSync(STATS, was);
    rmSync(PCAPNG, { force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`extras-bench: ${(e as Error).message}`);
  process.exitCode = 1;
});
