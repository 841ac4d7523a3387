import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { IPFT, kernelSkipReason, settledObjects, stableObjects } from "../support/run.js";
import { CASES } from "./cases.js";

const skip = kernelSkipReason();
const PROGRESS = /^(Attaching program|Trace ready!|Trace done!|Got \d+ traces)/;

function missingBackends(): Set<string> {
  const r = spawnSync(process.execPath, [IPFT, "--features"], { encoding: "utf8" });
  return new Set(
    r.stdout
      .split("\n")
      .filter((l) => /^\S+\s+no\s/.test(l))
      .map((l) => l.split(/\s+/)[0]!),
  );
}

test("at least 40 bad-input cases", () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
});

const missing = skip ? new Set<string>() : missingBackends();
for (const c of CASES) {
  const why =
    skip ??
    (c.needsMissing && !missing.has(c.needsMissing)
      ? `backend ${c.needsMissing} works on this kernel`
      : undefined);
  test(`bad input: ${c.name}`, { skip: why }, () => {
    const before = stableObjects();
    const cmd = [...(c.wrap ?? []), process.execPath, IPFT, ...c.args];
    const r = spawnSync(cmd[0]!, cmd.slice(1), {
      encoding: "utf8",
      env: { ...process.env, ...c.env },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    assert.equal(r.status, c.status, `exit status; stderr:\n${r.stderr}`);
    const lines = r.stderr
      .split("\n")
      .filter((l) => l && !PROGRESS.test(l) && !l.startsWith("ipft: no packet with mark"));
    assert.match(lines[0] ?? "", c.line);
    if (c.absent) assert.doesNotMatch(r.stderr, c.absent);
    assert.ok(!/\n\s+at .*(file:|node:)/.test(r.stderr), `no JavaScript stack trace:\n${r.stderr}`);
    assert.deepEqual(settledObjects(before), before, "the kernel holds what it held before");
  });
}
