// --test: the real verifier judges every program a trace would load; nothing is attached.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipft, kernelSkipReason, ROOT, settledObjects, stableObjects } from "../support/run.js";

const skip = kernelSkipReason();

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
