// --test: the real verifier judges every program a trace would load; nothing is attached.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipft, kernelSkipReason, settledObjects, stableObjects } from "../support/run.js";

const skip = kernelSkipReason();

for (const backend of ["tracepoint", "kprobe"]) {
  test(`--test -b ${backend} passes the verifier`, { skip }, () => {
    const before = stableObjects();
    const r = ipft(["--test", "-b", backend, "-m", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ok: \\d+ programs passed the verifier \\(${backend}: \\d+`));
    assert.deepEqual(settledObjects(before), before);
  });
}
