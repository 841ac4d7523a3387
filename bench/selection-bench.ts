// What selection costs in the kernel: ns per program run (bpf_stats: run_time_ns / run_cnt of the programs
// the traced process holds, summed over the tracepoints) for the mark alone, a 5-term pcap filter, and each with tracking,
// on the same loopback traffic; and bpftrace doing the same match by hand (skb->mark, then the UDP port
// through the kernel's structs) on the same tracepoints, as the peer. Needs root, bpftool and bpftrace.
//   node dist/bench/selection-bench.js [datagrams]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IPFT = `${ROOT}bin/ipft.js`;
const SENDER = `${ROOT}dist/src/tools/send-marked.js`;
const COUNT = Number(process.argv[2] ?? 20000);
const MARK = "0x2a";
const PORT = 9999;
const FILTER = `udp and dst port ${PORT} and src host 127.0.0.1 and len > 60 and not icmp`;
const TRACEPOINTS = [
  "net:net_dev_queue",
  "net:net_dev_start_xmit",
  "net:net_dev_xmit",
  "net:netif_rx_entry",
  "net:netif_rx",
  "net:netif_receive_skb",
  "skb:kfree_skb",
  "skb:consume_skb",
];

interface Stats {
  runs: number;
  ns: number;
}

/** The ids of the programs process `pid` holds (its fds' fdinfo): others may trace at the same time. */
function progIdsOf(pid: number): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "latin1"));
      if (m) ids.add(Number(m[1]));
    } catch {}
  }
  return ids;
}

/** run_time_ns and run_cnt summed over the programs `ids`. */
function progStats(ids: Set<number>): Stats {
  const r = spawnSync("bpftool", ["prog", "show", "-j"], { encoding: "utf8", maxBuffer: 64 << 20 });
  const progs = JSON.parse(r.stdout) as { id: number; run_time_ns?: number; run_cnt?: number }[];
  const s = { runs: 0, ns: 0 };
  for (const p of progs)
    if (ids.has(p.id)) {
      s.runs += p.run_cnt ?? 0;
      s.ns += p.run_time_ns ?? 0;
    }
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 60_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function traffic(): void {
  const r = spawnSync(
    process.execPath,
    [SENDER, "--mark", MARK, "--count", String(COUNT), "--port", String(PORT)],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`send-marked: ${r.stderr}`);
}

async function stop(p: ChildProcess): Promise<void> {
  const done = new Promise<void>((res) => p.once("exit", () => res()));
  p.kill("SIGINT");
  await done;
}

async function ipftRun(args: string[]): Promise<Stats> {
  const dir = mkdtempSync(join(tmpdir(), "ipft-selbench-"));
  const ready = join(dir, "ready");
  const tps = TRACEPOINTS.map((t) => t.split(":")[1]).join("|");
  const p = spawn(
    process.execPath,
    [IPFT, "-b", "tracepoint", "-r", `^(${tps})$`, "-o", "stream", "--ready-file", ready, ...args],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  await until(() => existsSync(ready) || p.exitCode !== null, "ipft to be ready");
  if (p.exitCode !== null) throw new Error(`ipft ${args.join(" ")}: ${err}`);
  const mine = progIdsOf(p.pid!);
  const before = progStats(mine);
  traffic();
  const after = progStats(mine);
  await stop(p);
  return { runs: after.runs - before.runs, ns: after.ns - before.ns };
}

/** The same match by hand: the mark, then (for UDP) the destination port from the transport header. */
async function bpftraceRun(): Promise<Stats | undefined> {
  if (spawnSync("sh", ["-c", "command -v bpftrace"]).status !== 0) return undefined;
  const probes = TRACEPOINTS.map((t) => `tracepoint:${t}`).join(", ");
  const script = `${probes} {
  $skb = (struct sk_buff *)args->skbaddr;
  if ($skb->mark == ${MARK}) {
    $ip = (struct iphdr *)($skb->head + $skb->network_header);
    if ($ip->protocol == 17) {
      $udp = (struct udphdr *)($skb->head + $skb->transport_header);
      if (bswap($udp->dest) == ${PORT}) { printf("%p %llu\\n", $skb, nsecs); }
    }
  }
}
`;
  const dir = mkdtempSync(join(tmpdir(), "ipft-selbench-"));
  const file = join(dir, "match.bt");
  writeFileSync(file, script);
  const p = spawn("bpftrace", [file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout!.on("data", (d) => {
    if (out.length < 4096) out += d;
  });
  let err = "";
  p.stderr!.on("data", (d) => (err += d));
  await until(() => /Attaching \d+ probe/.test(out + err) || p.exitCode !== null, "bpftrace to attach");
  if (p.exitCode !== null) throw new Error(`bpftrace: ${err}`);
  await sleep(500);
  const mine = progIdsOf(p.pid!);
  const before = progStats(mine);
  traffic();
  const after = progStats(mine);
  await stop(p);
  return { runs: after.runs - before.runs, ns: after.ns - before.ns };
}

async function main(): Promise<void> {
  const SYSCTL = "/proc/sys/kernel/bpf_stats_enabled";
  const was = readFileSync(SYSCTL, "utf8").trim();
  writeFileSync(SYSCTL, "1");
  try {
    const rows: [string, Stats | undefined][] = [];
    rows.push(["mark only (--no-track)", await ipftRun(["-m", MARK, "--no-track"])]);
    rows.push(["mark + tracking", await ipftRun(["-m", MARK])]);
    rows.push(["5-term pcap filter (--no-track)", await ipftRun(["--no-track", FILTER])]);
    rows.push(["5-term pcap filter + tracking", await ipftRun([FILTER])]);
    rows.push(["mark + filter + tracking", await ipftRun(["-m", MARK, FILTER])]);
    rows.push(["bpftrace: mark and UDP port by hand", await bpftraceRun()]);
    const base = rows[0]![1]!;
    const per = (s: Stats) => s.ns / Math.max(1, s.runs);
    console.log(
      `selection in the kernel, ${COUNT} marked datagrams over loopback, ${TRACEPOINTS.length} tracepoints`,
    );
    console.log(`filter: ${FILTER}`);
    console.log(
      `${"variant".padEnd(40)} ${"runs".padStart(9)} ${"ns/run".padStart(8)} ${"x mark".padStart(7)}`,
    );
    for (const [name, s] of rows) {
      if (!s) {
        console.log(`${name.padEnd(40)} (bpftrace not installed)`);
        continue;
      }
      console.log(
        `${name.padEnd(40)} ${String(s.runs).padStart(9)} ${per(s).toFixed(0).padStart(8)} ${(per(s) / per(base)).toFixed(2).padStart(7)}`,
      );
    }
  } finally {
    writeFileSync(SYSCTL, was);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`selection-bench: ${e.message}\n`);
  process.exit(1);
});
