// available_filter_functions parsed from text, and a missing file explained. The running kernel's tracefs is
// in test/host/tracefs.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFilterFunctions, readFilterFunctions } from "../../src/symbols/index.js";

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
