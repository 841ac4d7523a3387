import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import {
  availableFilterFunctions,
  findTracefs,
  parseFilterFunctions,
  readFilterFunctions,
} from "../../src/symbols/index.js";

test("parseFilterFunctions: plain, module and address forms", () => {
  const names = parseFilterFunctions(
    [
      "ip_rcv",
      "veth_xmit [veth]",
      "ffffffff81000110 ip_rcv_finish",
      "ffffffffc0a01000 br_handle_frame [bridge]",
      "deadbeef", // a function may be named like hex; alone on its line it is a name
      "",
    ].join("\n"),
  );
  assert.deepEqual([...names].sort(), [
    "br_handle_frame",
    "deadbeef",
    "ip_rcv",
    "ip_rcv_finish",
    "veth_xmit",
  ]);
  assert.equal(parseFilterFunctions("").size, 0);
});

test("readFilterFunctions explains a missing file instead of throwing", () => {
  const r = readFilterFunctions("/nonexistent/available_filter_functions");
  assert.equal(r.names, null);
  assert.match(
    (r as { reason: string }).reason,
    /cannot read \/nonexistent\/available_filter_functions \(ENOENT/,
  );
});

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
