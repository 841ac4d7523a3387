// nftables trace events parsed from bytes this kernel sent (captured.ts says what they are).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  isDrop,
  parseTraceMessages,
  TRACE_POLICY,
  TRACE_RULE,
  verdictName,
} from "../../src/nftrace/message.js";
import { CAPTURED, CAPTURED_LINES } from "./captured.js";

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : undefined);

test("every captured datagram is one trace event; each names its table (inet), chain and IPv4", () => {
  assert.equal(CAPTURED.length, 17);
  for (const e of CAPTURED) {
    assert.equal(e.family, 1, "inet");
    assert.equal(e.nfproto, 2, "NFPROTO_IPV4");
    assert.match(e.table, /^(ipft_trace_1|filt)$/);
    assert.match(e.chain, /^(pre|out|input|input2)$/);
    assert.ok(e.id > 0);
  }
});

test("the rule that dropped the echo request: table, chain, handle, verdict, headers, input device", () => {
  const drops = CAPTURED.filter(isDrop);
  assert.equal(drops.length, 2);
  const rule = drops[0]!;
  assert.deepEqual(
    {
      table: rule.table,
      chain: rule.chain,
      handle: rule.handle,
      type: rule.type,
      verdict: rule.verdict,
      iif: rule.iif,
    },
    { table: "filt", chain: "input", handle: 3n, type: TRACE_RULE, verdict: 0, iif: 1 },
  );
  assert.equal(verdictName(rule.verdict!), "drop");
  // IPv4, 84 bytes, ICMP, 127.0.0.1 to 127.0.0.1; then the echo request's type 8.
  assert.equal(hex(rule.network), "4500005403134000400139947f0000017f000001");
  assert.equal(hex(rule.transport)?.slice(0, 2), "08");
});

test("a chain's drop policy: a policy event, no handle, no header of its own (sent earlier for its id)", () => {
  const policy = CAPTURED.filter(isDrop)[1]!;
  assert.equal(policy.type, TRACE_POLICY);
  assert.equal(policy.chain, "input2");
  assert.equal(policy.handle, undefined);
  assert.equal(policy.network, undefined);
  const earlier = CAPTURED.find((e) => e.id === policy.id && e.chain === "input2" && e.network);
  assert.ok(earlier, "the header came with the chain's first event for this packet");
  assert.equal(earlier.network![9], 17, "UDP");
});

test("rules that let the packet go on are not drops; the output hook's events name the output device", () => {
  const go = CAPTURED.filter((e) => e.type === TRACE_RULE && e.handle !== undefined && e.verdict === -1);
  assert.ok(go.length >= 4);
  assert.equal(verdictName(-1), "continue");
  assert.ok(go.every((e) => !isDrop(e)));
  assert.ok(
    CAPTURED.filter((e) => e.chain === "out" && e.network).every((e) => e.oif === 1 && e.iif === undefined),
  );
});

test("other messages and truncated ones are skipped", () => {
  const one = Buffer.from(CAPTURED_LINES[0]!, "hex");
  const other = Buffer.from(one);
  other.writeUInt16LE((10 << 8) | 6, 4); // NFT_MSG_NEWRULE
  assert.deepEqual(parseTraceMessages(other), []);
  assert.deepEqual(parseTraceMessages(one.subarray(0, one.length - 4)), []);
  assert.equal(parseTraceMessages(Buffer.concat([one, one])).length, 2, "two messages in one datagram");
});
