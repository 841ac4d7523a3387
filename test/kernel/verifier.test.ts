// --test: the real verifier judges every program a trace would load; nothing is attached.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  ipft,
  kernelSkipReason,
  onePassSkipReason,
  ROOT,
  settledObjects,
  stableObjects,
} from "../support/run.js";

const skip = kernelSkipReason() ?? onePassSkipReason();

test("--test -s FILE: the GSO module passes the verifier inside every backend's program that loads here", {
  skip,
}, (t) => {
  for (const backend of ["tracepoint", "kprobe", "kprobe-multi", "ftrace"]) {
    const r = ipft(["--test", "-b", backend, "-m", "1", "-s", `${ROOT}examples/gso.lua`]);
    if (r.status !== 0 && /is not supported here/.test(r.stderr)) {
      t.diagnostic(`${backend}: skipped, ${r.stderr.trim()}`);
      continue;
    }
    assert.equal(r.status, 0, `${backend}: ${r.stderr}`);
    assert.match(r.stdout, /module of \d+ instructions/);
  }
});

for (const backend of ["tracepoint", "kprobe"]) {
  test(`--test -b ${backend} passes the verifier`, { skip }, () => {
    const before = stableObjects();
    const r = ipft(["--test", "-b", backend, "-m", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ok: \\d+ programs passed the verifier \\(${backend}: \\d+`));
    assert.deepEqual(settledObjects(before), before);
  });
}

test("a module the verifier rejects: the reason and the failing module instruction in a few lines; -v gives the whole log", {
  skip,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-verifier-"));
  const script = join(dir, "deref.lua");
  // Dereferences the skb pointer directly: the ABI guard allows it, the kernel does not (a scalar in raw
  // tracepoints and kprobes, a pointer that needs probe_read elsewhere).
  writeFileSync(
    script,
    "function emit() return BPF.emit({ BPF.LDX_MEM(BPF.DW, BPF.R0, BPF.R3, 0), BPF.STX_MEM(BPF.DW, BPF.R1, BPF.R0, 0) }) end\n",
  );
  const r = ipft(["--test", "-b", "tracepoint", "-m", "1", "-s", script]);
  assert.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split("\n");
  assert.match(
    lines[0]!,
    /^ipft: the kernel verifier rejected the program for \S+ \(EACCES\): R3 invalid mem access/,
  );
  assert.ok(lines.length <= 14, `${lines.length} lines:\n${r.stderr}`);
  assert.ok(
    lines.some((l) => /^> \d+: \(79\) r0 = \*\(u64 \*\)\(r3 \+0\)\s+<- module 0$/.test(l)),
    r.stderr,
  );
  const v = ipft(["--test", "-b", "tracepoint", "-m", "1", "-s", script, "-v"]);
  assert.equal(v.status, 1);
  assert.match(v.stderr, /^processed \d+ insns/m);
  assert.ok(v.stderr.split("\n").length > lines.length + 20);
});
