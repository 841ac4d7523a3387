// Signals at every phase, SIGKILL, a ring buffer too small for the traffic, and a flood through streaming
// output: the kernel is left as it was, what was collected is printed, and no trace is lost silently.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { test } from "node:test";
import {
  IPFT,
  kernelObjects,
  kernelSkipReason,
  SENDER,
  settledObjects,
  stableObjects,
} from "../support/run.js";

const skip = kernelSkipReason();
const READY = "/tmp/ipft-test-ready";
// --no-verdicts: these tests count events on exactly these two tracepoints (verdicts would add the frees).
const TPS = ["-b", "tracepoint", "-r", "^(net_dev_queue|netif_receive_skb)$", "--no-verdicts"];
/** TPS for a shell command line. */
const TPS_SH = TPS.map((a) => `'${a}'`).join(" ");

interface Running {
  p: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Running {
  const p = spawn(process.execPath, [IPFT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((r) =>
    p.on("close", (status, signal) => r({ status, signal })),
  );
  return { p, out: () => out, err: () => err, done };
}

async function ready(): Promise<void> {
  for (let i = 0; i < 600 && !existsSync(READY); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(READY), "ipft became ready");
}

function send(args: string[]): string {
  return spawnSync(process.execPath, [SENDER, "--mark", "0x2a", ...args], { encoding: "utf8" }).stderr;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  test(`${sig} while tracing: detach, print what was collected, Trace done!, exit 0`, { skip }, async () => {
    rmSync(READY, { force: true });
    const before = stableObjects();
    const r = start([...TPS, "-m", "0x2a", "-o", "json", "--ready-file", READY]);
    await ready();
    send(["--count", "4"]);
    await new Promise((res) => setTimeout(res, 200));
    r.p.kill(sig);
    const { status } = await r.done;
    assert.equal(status, 0, r.err());
    assert.match(r.err(), /Trace done!/);
    assert.ok(!existsSync(READY), "--ready-file is removed when ipft exits");
    assert.equal(r.out().trim().split("\n").length, 8, "4 packets x 2 tracepoints");
    assert.deepEqual(settledObjects(before), before);
  });
}

test("SIGINT at any phase (BTF, probing, loading, attaching) leaves nothing behind", { skip }, async () => {
  const before = stableObjects();
  for (const delay of [30, 120, 250, 400, 600, 900]) {
    const r = start(["-m", "0x2a", "-o", "json"]);
    await new Promise((res) => setTimeout(res, delay));
    r.p.kill("SIGINT");
    const { status, signal } = await r.done;
    // Before Node has installed ipft's handlers the default action ends it; after, it ends cleanly.
    assert.ok(
      status === 0 || signal === "SIGINT",
      `after ${delay} ms: status ${status} signal ${signal}\n${r.err()}`,
    );
    assert.ok(!/\n\s+at .*(file:|node:)/.test(r.err()), r.err());
  }
  assert.deepEqual(settledObjects(before), before);
});

test("SIGINT while printing does not cut the output short", { skip }, async () => {
  rmSync(READY, { force: true });
  const r = start([...TPS, "-m", "0x2a", "--ready-file", READY]);
  await ready();
  send(["--count", "3000"]);
  r.p.kill("SIGINT");
  await new Promise((res) => setTimeout(res, 5));
  r.p.kill("SIGINT");
  const { status } = await r.done;
  assert.equal(status, 0, r.err());
  assert.equal(
    r
      .out()
      .split("\n")
      .filter((l) => /^\d+\s+\+\S+\s+\d{3}\s/.test(l)).length,
    6000,
  );
});

test("SIGKILL leaves nothing in the kernel (every object is an fd)", { skip }, async () => {
  rmSync(READY, { force: true });
  const before = stableObjects();
  const r = start(["-m", "0x2a", "--ready-file", READY]);
  await ready();
  const during = kernelObjects();
  assert.ok(during.progs > before.progs && during.links > before.links, "programs and links were attached");
  r.p.kill("SIGKILL");
  await r.done;
  assert.deepEqual(settledObjects(before), before);
});

test("a ring too small for the traffic: Not seen: N events lost, with shown + lost = sent", { skip }, () => {
  const r = spawnSync(
    process.execPath,
    [
      IPFT,
      ...TPS,
      "-m",
      "0x2a",
      "-o",
      "stream",
      "--ring-size",
      "4k",
      "--",
      process.execPath,
      SENDER,
      "--mark",
      "0x2a",
      "--duration",
      "1",
    ],
    { encoding: "utf8", maxBuffer: 512 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const sent = Number(/sent (\d+) marked datagrams/.exec(r.stderr)?.[1]);
  const lost = Number(/^Not seen: (\d+) events? lost \(the ring buffer was full/m.exec(r.stderr)?.[1] ?? 0);
  const shown = r.stdout.trim().split("\n").length;
  assert.ok(lost > 0, `a 4 KiB ring must overflow at this rate (sent ${sent}, shown ${shown})`);
  assert.equal(shown + lost, 2 * sent, `shown ${shown} + lost ${lost} = 2 x sent ${sent}`);
});

test("1M traces through json output: memory stays flat", { skip }, () => {
  // /proc's peak RSS of ipft, read by a shell that runs it and reports after it exits.
  const r = spawnSync(
    "sh",
    [
      "-c",
      `${process.execPath} ${IPFT} ${TPS_SH} -m 0x2a -o json -- ${process.execPath} ${SENDER} --mark 0x2a --count 500000 >/dev/null & pid=$!; peak=0; while kill -0 $pid 2>/dev/null; do v=$(awk '/VmHWM/{print $2}' /proc/$pid/status 2>/dev/null); [ -n "$v" ] && peak=$v; sleep 0.2; done; wait $pid; echo "status=$? peak_kb=$peak"`,
    ],
    { encoding: "utf8" },
  );
  const m = /status=(\d+) peak_kb=(\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  assert.equal(m[1], "0", r.stderr);
  const sent = Number(/sent (\d+)/.exec(r.stderr)?.[1]);
  assert.equal(sent, 500_000, "500,000 packets, 2 tracepoints each: 1M traces");
  assert.ok(Number(m[2]) < 400 * 1024, `peak RSS ${m[2]} kB for ${2 * sent} traces`);
});

test("no marked packet seen: say so, with hints", { skip }, () => {
  const r = spawnSync(
    process.execPath,
    [IPFT, ...TPS, "-m", "0x7777", "--", process.execPath, SENDER, "--mark", "0x2a", "--count", "2"],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0);
  assert.match(r.stderr, /no packet with mark 0x7777 was seen\. Is the mark set .*network namespace/);
});

test("tracefs not mounted: ipft mounts it or goes on without it", { skip }, () => {
  const r = spawnSync(
    "unshare",
    [
      "-m",
      "sh",
      "-c",
      `umount /sys/kernel/tracing 2>/dev/null; ${process.execPath} ${IPFT} -v ${TPS_SH} -m 0x2a -o json -- ${process.execPath} ${SENDER} --mark 0x2a --count 1`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 2);
});

test("output closed early (ipft | head): a clean stop, no stack trace, nothing left behind", { skip }, () => {
  const before = stableObjects();
  const r = spawnSync(
    "bash",
    [
      "-c",
      `${process.execPath} ${IPFT} ${TPS_SH} -m 0x2a -o stream -- ${process.execPath} ${SENDER} --mark 0x2a --count 3000 | head -1; echo "status=\${PIPESTATUS[0]}"`,
    ],
    { encoding: "utf8" },
  );
  assert.match(r.stdout, /^\d+ 0x[0-9a-f]+ \d+ \+0ns \d{3} vmlinux \S+(?: IP .*)?\nstatus=0\n$/);
  assert.ok(!/\n\s+at .*(file:|node:)|EPIPE/.test(r.stderr), r.stderr);
  assert.deepEqual(settledObjects(before), before);
});
