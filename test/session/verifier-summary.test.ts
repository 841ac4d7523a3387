import assert from "node:assert/strict";
import { test } from "node:test";
import { summarizeVerifierLog } from "../../src/session/load.js";

const LOG = [
  "0: R1=ctx() R10=fp0",
  ...Array.from({ length: 20 }, (_, i) => `${i}: (b7) r${i % 10} = 0                       ; R${i % 10}=0`),
  "20: (79) r0 = *(u64 *)(r3 +0)      ; R3=scalar()    <- module 0",
  "R3 invalid mem access 'scalar'",
  "processed 21 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 0",
].join("\n");

test("a verifier log becomes its reason and the last instructions of the rejected path", () => {
  const s = summarizeVerifierLog(LOG);
  assert.equal(s.reason, "R3 invalid mem access 'scalar'");
  const lines = s.detail.split("\n");
  assert.ok(lines.length <= 12, `${lines.length} lines`);
  assert.match(lines[0]!, /run with -v/);
  assert.ok(lines.includes("> 20: (79) r0 = *(u64 *)(r3 +0)    <- module 0"), s.detail);
  assert.ok(lines.includes("  12: (b7) r2 = 0"), "the state comments are dropped");
  assert.ok(!s.detail.includes("processed"), "statistics are not a reason");
});

test("a log without instruction lines (the kernel refused before verifying) gives its first line", () => {
  const s = summarizeVerifierLog(
    "attach to unsupported member last_rx of struct sk_buff\nprocessed 0 insns\n",
  );
  assert.equal(s.reason, "attach to unsupported member last_rx of struct sk_buff");
  assert.equal(s.detail, "");
});
