// Start-to-ready: how long from spawning the tracer until it traces. ipft (tracepoint backend, every
// tracepoint that carries an skb, --ready-file) against bpftrace on the same tracepoints with the same mark
// test, in the same run, runs interleaved. ipft is ready when its ready file appears (written once every
// program is attached); bpftrace when it prints "Attaching N probes..." (printed before it attaches) and,
// later, when its BEGIN probe prints (BEGIN fires once the probes are attached). Also reported: the CPU
// time the tracer had used by then, less sensitive to a busy machine than the wall clock, and the floor
// of `node -e 0`. Needs root.
//   node dist/bench/startup.js [--runs 5] [--only ipft|bpftrace]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IPFT = `${ROOT}bin/ipft.js`;
const MARK = 0x2a;
const TICK = 100; // clock ticks per second (USER_HZ)
const args = process.argv.slice(2);
const argOf = (k: string): string | undefined => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(argOf("--runs") ?? 5);
const ONLY = argOf("--only");
const TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].find((d) => existsSync(`${d}/events`));

interface Sample {
  /** Spawn to ready, ms. */
  ready: number;
  /** bpftrace only: spawn to its BEGIN probe's line, ms. */
  begun?: number;
  /** user+sys CPU the tracer had used when it was seen ready, ms (10 ms resolution). */
  cpu: number;
}

function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / TICK) * 1000;
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tracepoints ipft would trace with -b tracepoint, from its own list (not timed). */
function ipftTracepoints(): string[] {
  const r = spawnSync(process.execPath, [IPFT, "-l"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ipft -l failed: ${r.stderr.trim()}`);
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === "tracepoint")
    .map((f) => f[0]!);
}

/** bpftrace names tracepoints by category and reads their recorded fields: find both in tracefs. */
function bpftraceProbe(tp: string): { probe: string; skbField?: string } | undefined {
  if (!TRACEFS) return undefined;
  for (const cat of readdirSync(`${TRACEFS}/events`)) {
    const fmt = `${TRACEFS}/events/${cat}/${tp}/format`;
    if (!existsSync(fmt)) continue;
    const field = /field:(?:const )?void \* (\w*skb\w*);/.exec(readFileSync(fmt, "latin1"))?.[1];
    return { probe: `tracepoint:${cat}:${tp}`, ...(field ? { skbField: field } : {}) };
  }
  return undefined;
}

async function runOnce(cmd: string[], readyFile: string | undefined, begin?: string): Promise<Sample> {
  if (readyFile) rmSync(readyFile, { force: true });
  const t0 = performance.now();
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  let ready = 0;
  let cpu = Number.NaN;
  let begun = 0;
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  p.stdout.setEncoding("latin1");
  p.stdout.on("data", (d: string) => {
    out += d;
    if (!readyFile && !ready && out.includes("Attaching")) {
      ready = performance.now();
      cpu = cpuMs(p.pid!);
    }
    if (begin && !begun && out.includes(begin)) begun = performance.now();
  });
  const done = new Promise((r) => p.on("close", r));
  const deadline = t0 + 60_000;
  while (!(ready && (!begin || begun))) {
    if (readyFile && existsSync(readyFile)) {
      ready = performance.now();
      cpu = cpuMs(p.pid!);
    }
    if (p.exitCode !== null || p.signalCode !== null || performance.now() > deadline) {
      p.kill("SIGKILL");
      throw new Error(
        `${cmd[0]} did not get ready: ${(err || out).trim().split("\n").slice(-3).join(" | ")}`,
      );
    }
    await sleep(1);
  }
  p.kill("SIGINT");
  await done;
  return { ready: ready - t0, ...(begun ? { begun: begun - t0 } : {}), cpu };
}

function row(name: string, xs: number[], cpu: number[] = []): string {
  const f = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(0));
  const s = [...xs].sort((a, b) => a - b);
  return `${name.padEnd(28)} ${f(median(xs)).padStart(8)} ${f(s[0]!).padStart(8)} ${f(s.at(-1)!).padStart(8)} ${f(median(cpu)).padStart(10)}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("startup: SKIP (needs root)");
    return;
  }
  const tps = ipftTracepoints();
  const dir = mkdtempSync(join(tmpdir(), "ipft-startup-"));
  const readyFile = join(dir, "ready");
  const ipftCmd = [process.execPath, IPFT, "-m", String(MARK), "-b", "tracepoint", "--ready-file", readyFile];

  // The same tracepoints and the same mark test on skb->mark. A tracepoint that records no skb address
  // (its raw arguments have one, its format does not) cannot be filtered by bpftrace: it gets a test on
  // the CPU number instead, so both tools still load and attach one program per tracepoint.
  const probes: string[] = [];
  const missing: string[] = [];
  for (const tp of tps) {
    const b = bpftraceProbe(tp);
    if (!b) {
      missing.push(tp);
      continue;
    }
    const test = b.skbField ? `((struct sk_buff *)args->${b.skbField})->mark == ${MARK}` : "cpu == 4096";
    probes.push(
      `${b.probe} /${test}/ { printf("%p %llu %03d ${tp}\\n", ${b.skbField ? `args->${b.skbField}` : "0"}, nsecs, cpu); }`,
    );
  }
  const BEGIN_LINE = "ipft-bench-begun";
  const btProg = `BEGIN { printf("${BEGIN_LINE}\\n"); } ${probes.join(" ")}`;

  const haveBpftrace = spawnSync("bpftrace", ["--version"]).status === 0;

  const ipft: Sample[] = [];
  const bt: Sample[] = [];
  const floor: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ["-e", "0"]);
      floor.push(performance.now() - t);
      if (ONLY !== "bpftrace") ipft.push(await runOnce(ipftCmd, readyFile));
      if (ONLY !== "ipft" && haveBpftrace)
        bt.push(await runOnce(["bpftrace", "-B", "line", "-e", btProg], undefined, BEGIN_LINE));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(
    `\nstartup, spawn to ready, ${RUNS} runs each, ${tps.length} tracepoints (ipft) / ${probes.length} (bpftrace)${missing.length ? `; not in tracefs: ${missing.join(" ")}` : ""}\n`,
  );
  console.log(
    `${"".padEnd(28)} ${"median".padStart(8)} ${"min".padStart(8)} ${"max".padStart(8)} ${"CPU ms".padStart(10)}`,
  );
  console.log(row("node -e 0 (exit)", floor));
  if (ipft.length)
    console.log(
      row(
        "ipft (ready file)",
        ipft.map((s) => s.ready),
        ipft.map((s) => s.cpu),
      ),
    );
  if (bt.length) {
    console.log(
      row(
        "bpftrace (Attaching line)",
        bt.map((s) => s.ready),
        bt.map((s) => s.cpu),
      ),
    );
    console.log(
      row(
        "bpftrace (BEGIN fired)",
        bt.map((s) => s.begun ?? Number.NaN),
      ),
    );
  } else if (!haveBpftrace)
    console.log("bpftrace: not installed (apt-get install bpftrace); no peer measured");
  if (ipft.length && bt.length) {
    const i = median(ipft.map((s) => s.ready));
    const a = median(bt.map((s) => s.ready));
    const b = median(bt.map((s) => s.begun ?? Number.NaN));
    console.log(
      `\nratio ipft/bpftrace: ${(i / a).toFixed(2)}x (to "Attaching"), ${(i / b).toFixed(2)}x (to BEGIN, probes attached)`,
    );
  }
}

main().catch((e: Error) => {
  console.error(`startup: ${e.message}`);
  process.exit(1);
});
