// The running kernel's tracefs found (or mounted) and its available_filter_functions read.
// Needs this machine: root and tracefs (skipped, saying why, without them).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { availableFilterFunctions, findTracefs } from "../../src/symbols/index.js";

test("the running kernel's tracefs", (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root to find or mount tracefs");
  const found = findTracefs();
  if ("reason" in found) return t.skip(`no tracefs: ${found.reason}`);
  assert.ok(existsSync(`${found.path}/events`) || existsSync(`${found.path}/available_filter_functions`));
  const a = availableFilterFunctions();
  if (a.names === null) {
    // Some kernels refuse to list traceable functions (EPERM): the answer is a reason, not an exception.
    assert.match(a.reason, /cannot read .*available_filter_functions \(\w+/);
    assert.ok(!a.reason.includes("\n"));
  } else {
    assert.ok(a.names.size > 1000, `${a.names.size} traceable functions`);
    assert.ok(a.names.has("ip_rcv") || a.names.has("kfree_skb_reason"));
  }
});
