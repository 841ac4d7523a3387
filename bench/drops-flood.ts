// --drops under a flood: iperf3 TCP between two network namespaces (a veth pair; nftables marks the flow in
// both, crossing clears the mark, tracking follows it), traced by ipft --drops, by ipft's default aggregate
// output, and by bpftrace as the peer: the same tracepoints and mark, each packet's events counted in a
// kernel map until its verdict, a line printed at each drop (the kernel-side way to report only drops).
// Also iperf3 alone, for the throughput without a tracer. Per tool: iperf3's throughput, events the ring
// lost, the tracer's peak RSS and user+sys CPU during the flood (the programs' kernel time is the
// packets' own: it shows in the throughput), packets --drops let go. Needs root, iperf3, nft.
// --compare OTHER/bin/ipft.js measures another build of ipft too, in the same runs (before and after).
//   node dist/bench/drops-flood.js [--seconds 5] [--repeat 1] [--compare PATH]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { lostFromStderr } from "../src/output/unseen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1]! : d;
};
const SECONDS = Number(opt("--seconds", "5"));
const REPEAT = Number(opt("--repeat", "1"));
const IPFT = `${ROOT}bin/ipft.js`;
const COMPARE = opt("--compare", "");
const MARK = 42;
const PORT = 5201;
const NS_A = "ipftbfa";
const NS_B = "ipftbfb";
const ADDR_B = "10.203.0.2";
const TICK = 100; // USER_HZ
// The tracepoints this flood goes through (ipft attaches these and more: the others stay quiet).
const POINTS = [
  "net:net_dev_queue",
  "net:net_dev_start_xmit",
  "net:net_dev_xmit",
  "net:netif_rx_entry",
  "net:netif_rx",
  "net:netif_receive_skb",
  "skb:skb_copy_datagram_iovec",
  "tcp:tcp_probe",
];

function sh(cmd: string[], input?: string): { status: number; out: string; err: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", ...(input ? { input } : {}) });
  return { status: r.status ?? -1, out: r.stdout ?? "", err: (r.stderr || r.error?.message || "").trim() };
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root";
  for (const t of ["iperf3", "nft", "ip"])
    if (sh(["sh", "-c", `command -v ${t}`]).status !== 0)
      return `needs ${t} (scripts/bench.sh installs iperf3)`;
  return undefined;
}

function removeNamespaces(): void {
  sh(["ip", "netns", "del", NS_A]);
  sh(["ip", "netns", "del", NS_B]);
}

function makeNamespaces(): void {
  removeNamespaces();
  const rules = ["prerouting", "output"]
    .map(
      (hook) =>
        `chain ${hook} { type filter hook ${hook} priority -300;\n` +
        `tcp dport ${PORT} meta mark set ${MARK}\ntcp sport ${PORT} meta mark set ${MARK}\n}`,
    )
    .join("\n");
  const steps: [string[], string?][] = [
    [["ip", "netns", "add", NS_A]],
    [["ip", "netns", "add", NS_B]],
    [
      [
        "ip",
        "link",
        "add",
        "ipftbf0",
        "netns",
        NS_A,
        "type",
        "veth",
        "peer",
        "name",
        "ipftbf1",
        "netns",
        NS_B,
      ],
    ],
    [["ip", "-n", NS_A, "addr", "add", "10.203.0.1/24", "dev", "ipftbf0"]],
    [["ip", "-n", NS_B, "addr", "add", `${ADDR_B}/24`, "dev", "ipftbf1"]],
    [["ip", "-n", NS_A, "link", "set", "ipftbf0", "up"]],
    [["ip", "-n", NS_B, "link", "set", "ipftbf1", "up"]],
    [["ip", "-n", NS_A, "link", "set", "lo", "up"]],
    [["ip", "-n", NS_B, "link", "set", "lo", "up"]],
    [["ip", "netns", "exec", NS_A, "nft", "-f", "-"], `table inet ipft_bench {\n${rules}\n}\n`],
    [["ip", "netns", "exec", NS_B, "nft", "-f", "-"], `table inet ipft_bench {\n${rules}\n}\n`],
  ];
  for (const [cmd, input] of steps) {
    const r = sh(cmd, input);
    if (r.status !== 0) throw new Error(`${cmd.join(" ")}: ${r.err}`);
  }
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

/** The process's peak resident set (VmHWM), in MiB. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return Number(m?.[1] ?? 0) / 1024;
}

/** iperf3's client for SECONDS: received throughput in Gbit/s. */
function iperf(): Promise<number> {
  const c = spawn(
    "ip",
    ["netns", "exec", NS_A, "iperf3", "-c", ADDR_B, "-p", String(PORT), "-t", String(SECONDS), "-J"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let out = "";
  c.stdout.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    c.on("close", () => {
      try {
        resolve(JSON.parse(out).end.sum_received.bits_per_second / 1e9);
      } catch {
        resolve(Number.NaN);
      }
    }),
  );
}

interface Result {
  tool: string;
  gbits: number;
  lost: number;
  rssMiB: number;
  cpu: number;
  letGo: string;
}

interface Tracer {
  tool: string;
  cmd: string[];
  ready: (err: string) => boolean;
  lost: (err: string) => number;
  letGo: (err: string) => string;
}

async function measure(t: Tracer | undefined): Promise<Result> {
  if (!t) return { tool: "iperf3 alone", gbits: await iperf(), lost: 0, rssMiB: 0, cpu: 0, letGo: "" };
  const p: ChildProcess = spawn(t.cmd[0]!, t.cmd.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, BPFTRACE_MAP_KEYS_MAX: "65536" },
  });
  let err = "";
  // Read the output (a full pipe would stall the tracer), keep its start: bpftrace says "Attaching" there.
  let out = "";
  p.stdout!.on("data", (d: Buffer) => {
    if (out.length < 4096) out += d.toString();
  });
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const t0 = Date.now();
  while (!t.ready(out + err)) {
    if (Date.now() - t0 > 60_000 || p.exitCode !== null) throw new Error(`${t.tool} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const cpu0 = cpuSeconds(p.pid!);
  const gbits = await iperf();
  await new Promise((r) => setTimeout(r, 500));
  const cpu = cpuSeconds(p.pid!) - cpu0;
  const rssMiB = peakRss(p.pid!);
  p.kill("SIGINT");
  await new Promise((r) => p.on("close", r));
  if (process.env.BENCH_DEBUG) console.error(`${t.tool}:`, err.slice(-600));
  return { tool: t.tool, gbits, lost: t.lost(err), rssMiB, cpu, letGo: t.letGo(err) };
}

function tracers(): (Tracer | undefined)[] {
  const readyFile = "/tmp/ipft-bench-drops-ready";
  const ipft = (tool: string, extra: string[], bin = IPFT): Tracer => ({
    tool,
    cmd: [process.execPath, bin, "-b", "tracepoint", "-m", String(MARK), "--ready-file", readyFile, ...extra],
    ready: () => existsSync(readyFile),
    lost: (err) => lostFromStderr(err),
    letGo: (err) =>
      /let go of (\d+)/.exec(err)?.[1] ??
      /(\d+) packets were let go/.exec(err)?.[1] ??
      (extra.length ? "0" : ""),
  });
  const list: (Tracer | undefined)[] = [undefined, ipft("ipft", []), ipft("ipft --drops", ["--drops"])];
  if (COMPARE) list.push(ipft("other", [], COMPARE), ipft("other --drops", ["--drops"], COMPARE));
  if (sh(["bpftrace", "--version"]).status === 0) {
    // Per packet, its events counted in a map (tracked by address: crossing the veth clears the mark);
    // a line at each drop, the count forgotten at the verdict.
    const seen = (v: string) => `((struct sk_buff *)${v})->mark == ${MARK} || @n[${v}]`;
    const prog = [
      ...POINTS.map((tp) => `tracepoint:${tp} /${seen("args->skbaddr")}/ { @n[args->skbaddr]++; }`),
      `tracepoint:skb:kfree_skb /${seen("args->skbaddr")}/ { printf("%p dropped (%d) after %d events\\n", args->skbaddr, args->reason, @n[args->skbaddr] + 1); delete(@n[args->skbaddr]); }`,
      `tracepoint:skb:consume_skb /@n[args->skbaddr]/ { delete(@n[args->skbaddr]); }`,
    ].join("\n");
    let attached = 0;
    list.push({
      tool: "bpftrace",
      cmd: ["bpftrace", "-e", prog],
      // "Attaching N probes..." comes before they are attached: give it a moment.
      ready: (err) => {
        if (!attached && /Attaching/.test(err)) attached = Date.now();
        return attached > 0 && Date.now() - attached > 1000;
      },
      lost: (err) => Number(/Lost (\d+) events/.exec(err)?.[1] ?? 0),
      letGo: () => "",
    });
  } else console.log("bpftrace: not installed (apt-get install bpftrace); no peer measured");
  return list;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const why = skipReason();
  if (why) {
    console.log(`drops-flood: SKIP (${why})`);
    return;
  }
  makeNamespaces();
  const server = spawn("ip", ["netns", "exec", NS_B, "iperf3", "-s", "-p", String(PORT)], {
    stdio: "ignore",
  });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const runs = new Map<string, Result[]>();
    for (let i = 0; i < REPEAT; i++)
      for (const t of tracers()) {
        rmSync("/tmp/ipft-bench-drops-ready", { force: true });
        const r = await measure(t);
        runs.set(r.tool, [...(runs.get(r.tool) ?? []), r]);
      }
    console.log(
      `\ndrops-flood: iperf3 TCP for ${SECONDS} s between two namespaces, tracepoint backend` +
        `${REPEAT > 1 ? `, median of ${REPEAT} runs` : ""}\n`,
    );
    console.log("tool           Gbit/s   events lost   peak RSS MiB   tracer CPU s   packets let go");
    const med: Record<string, Result> = {};
    for (const [tool, rs] of runs) {
      const m: Result = {
        tool,
        gbits: median(rs.map((r) => r.gbits)),
        lost: median(rs.map((r) => r.lost)),
        rssMiB: median(rs.map((r) => r.rssMiB)),
        cpu: median(rs.map((r) => r.cpu)),
        letGo: rs.map((r) => r.letGo).join("/"),
      };
      med[tool] = m;
      console.log(
        `${tool.padEnd(14)} ${m.gbits.toFixed(2).padEnd(8)} ${String(m.lost).padEnd(13)} ${m.rssMiB ? m.rssMiB.toFixed(0).padEnd(14) : "-".padEnd(14)} ${m.cpu ? m.cpu.toFixed(2).padEnd(14) : "-".padEnd(14)} ${m.letGo || "-"}`,
      );
    }
    const d = med["ipft --drops"];
    const a = med.ipft;
    const b = med.bpftrace;
    const base = med["iperf3 alone"];
    if (d && a)
      console.log(
        `\nratio --drops/aggregate: throughput ${(d.gbits / a.gbits).toFixed(2)}x, peak RSS ${(d.rssMiB / a.rssMiB).toFixed(2)}x, CPU ${(d.cpu / a.cpu).toFixed(2)}x`,
      );
    if (d && b)
      console.log(
        `ratio --drops/bpftrace: throughput ${(d.gbits / b.gbits).toFixed(2)}x, peak RSS ${(d.rssMiB / b.rssMiB).toFixed(2)}x${b.cpu >= 0.01 ? `, CPU ${(d.cpu / b.cpu).toFixed(2)}x` : ""}`,
      );
    const o = med["other --drops"];
    if (d && o)
      console.log(
        `ratio --drops/other build's --drops: throughput ${(d.gbits / o.gbits).toFixed(2)}x, events lost ${(d.lost / Math.max(1, o.lost)).toFixed(3)}x, peak RSS ${(d.rssMiB / o.rssMiB).toFixed(2)}x`,
      );
    if (d && base)
      console.log(`--drops keeps ${((100 * d.gbits) / base.gbits).toFixed(0)}% of the untraced throughput`);
  } finally {
    server.kill();
    await new Promise((r) => server.on("close", r));
    removeNamespaces();
  }
}

main().catch((e: Error) => {
  console.error(`drops-flood: ${e.message}`);
  removeNamespaces();
  process.exit(1);
});
