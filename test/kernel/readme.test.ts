// The README's quick start, run as written (the ./bin/ipft.js lines of its first code block), with the
// output it shows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { kernelSkipReason, ROOT, slowInVmSkipReason } from "../support/run.js";

const BACKEND = process.env.IPFT_TEST_BACKEND;
// The commands choose their backend themselves: one run of the suite (the tracepoint one) is enough. In
// the qemu guest (TCG) of a kernel without kprobe-multi they would attach every skb function one by one,
// which takes minutes there: that kernel is left to the other runs.
const skip =
  kernelSkipReason() ??
  (BACKEND && BACKEND !== "tracepoint"
    ? "the README's commands choose their own backend: run in the tracepoint run only"
    : undefined) ??
  slowInVmSkipReason();

const quick = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(
  readFileSync(`${ROOT}README.md`, "utf8"),
)![1]!;
const commands = quick
  .split("\n")
  .map((l) => l.replace(/^npm run setup && /, ""))
  .filter((l) => l.startsWith("./bin/ipft.js "));

test("the quick start's commands", () => {
  assert.equal(commands.length, 2, quick);
});

for (const cmd of commands) {
  test(`README: ${cmd}`, { skip }, () => {
    const r = spawnSync("sh", ["-c", cmd], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Timestamp +Elapsed +CPU +Module +Function$/m);
    assert.match(r.stdout, /^=== packet \d+, skb 0x[0-9a-f]+, took \S+(?: : .*)?$/m);
    if (cmd.includes("--closed")) {
      // The lines the README shows after the command.
      for (const shown of quick
        .split(cmd)[1]!
        .split("\n")
        .filter((l) => /^#\s+(Verdict|Cause|\d+ (packet|dropped))/.test(l))) {
        const text = shown.replace(/^#\s+/, "").replace(/\s+\(on stderr.*$/, "");
        const pattern = new RegExp(
          // Addresses change, and the namespace's name is the machine's (explain/facts.ts).
          `^${text
            .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
            .replace(/0x[0-9a-f]+/g, "0x[0-9a-f]+")
            .replace(/namespace [^,]+,/g, "namespace [^,]+,")}$`,
          "m",
        );
        assert.match(
          `${r.stdout}${r.stderr}`,
          pattern,
          `README shows "${text}"; ipft printed on stderr:\n${r.stderr}`,
        );
      }
    }
  });
}
