// The running kernel's /proc/kallsyms parsed and resolved, and ipft's one-line answer when CAP_SYSLOG is
// dropped. Needs this machine: a readable /proc/kallsyms with addresses shown; root and setpriv for the
// CAP_SYSLOG test (each test skips, saying why, when it cannot run).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Kallsyms } from "../../src/symbols/index.js";
import { IPFT } from "../support/run.js";

test("ipft without CAP_SYSLOG says so (root, CAP_SYSLOG dropped from the bounding set)", (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root");
  if (spawnSync("setpriv", ["--version"]).status !== 0) return t.skip("setpriv (util-linux) is missing");
  if (readFileSync("/proc/sys/kernel/kptr_restrict", "latin1").trim() === "2")
    return t.skip("kernel.kptr_restrict is 2: zeros for everyone");
  const r = spawnSync(
    "setpriv",
    ["--bounding-set", "-syslog", "--", process.execPath, IPFT, "-m", "1", "--", "true"],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^ipft: \/proc\/kallsyms shows every address as 0: ipft lacks CAP_SYSLOG \(kernel\.kptr_restrict is [01]/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});

test("the running kernel's /proc/kallsyms", (t) => {
  let text: string;
  try {
    text = readFileSync("/proc/kallsyms", "latin1");
  } catch {
    return t.skip("/proc/kallsyms is not readable");
  }
  if (/^0+ /.test(text) && !/^0*[1-9a-f][0-9a-f]* /m.test(text))
    return t.skip("kallsyms addresses are hidden");
  const started = performance.now();
  const k = Kallsyms.load();
  const ms = performance.now() - started;
  assert.ok(k.size > 10000, `${k.size} text symbols`);
  const lines = text.split("\n");
  // Every 500th text symbol: its address resolves, at offset 0, to one of the names listed there.
  const at = new Map<bigint, Set<string>>();
  const text_ = lines.filter((l) => / [tTwW] /.test(l)).map((l) => l.split(/\s+/));
  for (const [addr, , name] of text_) {
    const a = BigInt(`0x${addr}`);
    if (!at.has(a)) at.set(a, new Set());
    at.get(a)!.add(name!);
  }
  for (let i = 0; i < text_.length; i += 500) {
    const a = BigInt(`0x${text_[i]![0]}`);
    const r = k.resolve(a);
    assert.ok(r, `resolves ${text_[i]![2]}`);
    assert.equal(r.offset, 0);
    assert.ok(at.get(a)!.has(r.name), `${r.name} is listed at ${a.toString(16)}`);
  }
  const ipRcv = lines.find((l) => / [tT] ip_rcv$/.test(l));
  if (ipRcv) {
    const a = BigInt(`0x${ipRcv.split(" ")[0]}`);
    assert.equal(k.address("ip_rcv"), a);
    assert.deepEqual(k.resolve(a + 4n), { name: "ip_rcv", module: "vmlinux", offset: 4 });
  }
  const weak = text_.find((f) => f[1] === "W");
  if (weak) {
    const a = BigInt(`0x${weak[0]}`);
    assert.ok(at.get(a)!.has(k.resolve(a + 1n)!.name), `weak ${weak[2]} is named, not an offset`);
  }
  const modLine = lines.find((l) => / [tT] \S+\t\[\S+\]$/.test(l));
  if (modLine) {
    const m = /^(\S+) [tT] (\S+)\t\[(\S+)\]$/.exec(modLine)!;
    assert.equal(k.resolve(BigInt(`0x${m[1]}`))!.module, m[3]);
  }
  assert.ok(ms < 1000, `load took ${ms.toFixed(0)} ms`);
});
