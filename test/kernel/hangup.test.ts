// SIGHUP (the terminal or the ssh session closed) stops a trace like SIGINT and SIGTERM do: detach, print
// what was collected, exit 0. Without a handler Node's default action kills ipft with nothing printed.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { IPFT, kernelSkipReason, onePassSkipReason, SENDER } from "../support/run.js";

const skip = kernelSkipReason() ?? onePassSkipReason();

test("SIGHUP while tracing: detach, print what was collected, Trace done!, exit 0", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-hangup-"));
  const ready = join(dir, "ready");
  const args = ["-b", "tracepoint", "-r", "^(net_dev_queue|netif_receive_skb)$", "-m", "0x4e1", "-o", "json"];
  const p = spawn(process.execPath, [IPFT, ...args, "--ready-file", ready], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  p.stdout.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((r) =>
    p.on("close", (status, signal) => r({ status, signal })),
  );
  try {
    for (let i = 0; i < 600 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(ready), `ipft became ready\n${err}`);
    spawnSync(process.execPath, [SENDER, "--mark", "0x4e1", "--count", "3"]);
    await new Promise((r) => setTimeout(r, 200));
    p.kill("SIGHUP");
    const { status, signal } = await done;
    assert.equal(signal, null, `ended by ${signal}, not by its handler\n${err}`);
    assert.equal(status, 0, err);
    assert.match(err, /Trace done!/);
    // The verdict tracepoints come on top, whatever -r says: consume_skb fires for these packets on some
    // kernels (6.1), not on others.
    const events = out
      .trim()
      .split("\n")
      .filter((l) => !/"function":"(consume_skb|kfree_skb)"/.test(l));
    assert.equal(events.length, 6, "3 packets x 2 tracepoints");
  } finally {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
