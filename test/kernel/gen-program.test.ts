// --gen program lists the program ipft would load; each jump must read as it is encoded (the offset the
// verifier reports), ipft's own jumps to its exit and the module's branches over 64-bit loads alike.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkListedJumps } from "../asm/listing.js";
import { ipft, jsonLines, kernelSkipReason, ROOT, senderArgs } from "../support/run.js";

const skip = kernelSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const SCRIPT = `${ROOT}test/script/fixtures/branch-over-ld-imm64.lua`;

test(`--gen program: every goto shows the offset in its bytes (${BACKEND})`, { skip }, () => {
  const r = ipft(["--gen", "program", "-m", "1", "-b", BACKEND, "-s", SCRIPT]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => /^\d+: /.test(l));
  const over = checkListedJumps(lines, (why) => assert.fail(why));
  const jumps = lines.filter((l) => l.includes("goto pc"));
  assert.ok(jumps.length >= 8, jumps.join("\n"));
  assert.ok(!jumps.some((l) => l.includes("goto pc+0")), jumps.join("\n"));
  // The module's three branches each pass over a 64-bit load, so do ipft's jumps to its exit.
  assert.ok(over >= 5, `${over} jumps over 64-bit loads:\n${jumps.join("\n")}`);
  const mod = jumps.filter((l) => l.endsWith("; module")).map((l) => l.replace(/^\d+: [0-9a-f]+ {2}/, ""));
  assert.deepEqual(mod, [
    "if r4 != 0x0 goto pc+3    ; module",
    "goto pc+1    ; module",
    "if r5 == 0x0 goto pc+2    ; module",
  ]);
});

test(`the listed branches are the ones the kernel runs: a module branching over 64-bit loads (${BACKEND})`, {
  skip,
}, () => {
  const fn = BACKEND === "tracepoint" ? "net_dev_queue" : "__dev_queue_xmit";
  const r = ipft([
    ...["-b", BACKEND, "-r", `^${fn}$`, "-m", "0x2a", "-s", SCRIPT, "-o", "json", "--"],
    ...senderArgs(0x2a, ["--count", "2"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  // Only fn's events: the verdict tracepoints, traced whatever -r says, run the module too (and consume_skb
  // fires for these packets on some kernels, 6.1, not on others).
  const data = jsonLines<{ function: string; data: string }>(r.stdout)
    .filter((e) => e.function === fn)
    .map((e) => e.data);
  assert.deepEqual(data, ["a=0x1122334455667788 b=0x2a", "a=0x1122334455667788 b=0x2a"]);
});
