// The json output read by an independent parser: every line is valid for jq, and unchanged by it.
// Needs this machine: the installed jq (skipped, saying so, without it).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { functionDumper } from "../../src/output/index.js";
import { IP_RCV, MAX_U64, NAMING_EVS, run } from "../output/records.js";

test("json: every line is valid for jq -c . (and comes back unchanged below 2^53)", (t) => {
  const probe = spawnSync("jq", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    t.skip("jq is not installed (apt-get install -y jq)");
    return;
  }
  const dump = (d: Uint8Array) => (d[0] === 1 ? { len: 42, dev: "lo\n" } : undefined);
  const { out } = run(
    "json",
    NAMING_EVS.map((e, i) => ({ ...e, data: i === 0 ? 1 : 0 })),
    { dumper: functionDumper(dump) },
  );
  const jq = spawnSync("jq", ["-c", "."], { input: out, encoding: "utf8" });
  assert.equal(jq.status, 0, jq.stderr);
  // Our output is already compact with keys in order: jq must print the same bytes.
  assert.equal(jq.stdout, out);
  const big = run("json", [{ skb: 1n, ts: MAX_U64, func: IP_RCV, cpu: 0 }]).out;
  const jq2 = spawnSync("jq", ["-c", ".function"], { input: big, encoding: "utf8" });
  assert.equal(jq2.status, 0, jq2.stderr);
  assert.equal(jq2.stdout, '"ip_rcv"\n');
});
