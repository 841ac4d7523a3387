// What nft lists of a chain, the trace table ipft adds, and the explanation a matched drop gets.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChainListing } from "../../src/nftrace/ruleset.js";
import { tracedCondition, traceRuleset, traceTablePids } from "../../src/nftrace/table.js";
import { explainTraced, isIptablesTable, unmatched } from "../../src/nftrace/tracer.js";
import { CAPTURED } from "./captured.js";

// `nft -a list chain inet filt input` (nftables 1.0.6).
const LISTING = `table inet filt {
	chain input { # handle 1
		type filter hook input priority filter; policy accept;
		icmp type echo-request counter packets 1 bytes 84 drop # handle 3
	}
}
`;

test("a chain's listing: its hook and policy, each rule's text by handle", () => {
  const l = parseChainListing(LISTING);
  assert.equal(l.hook, "input");
  assert.equal(l.policy, "accept");
  assert.deepEqual([...l.rules], [["3", "icmp type echo-request counter packets 1 bytes 84 drop"]]);
});

test("the trace table: both hooks at -500, the mark selector or every packet", () => {
  const t = traceRuleset(42, { mark: { mark: 0x10, mask: 0xff } });
  assert.match(t, /^table inet ipft_trace_42 \{$/m);
  assert.match(
    t,
    /chain prerouting \{ type filter hook prerouting priority -500; meta mark and 0xff == 0x10 meta nftrace set 1; \}/,
  );
  assert.match(
    t,
    /chain output \{ type filter hook output priority -500; meta mark and 0xff == 0x10 meta nftrace set 1; \}/,
  );
  assert.equal(tracedCondition({ mark: { mark: 1, mask: 0xffffffff } }), "meta mark 0x1");
  assert.equal(tracedCondition({}), "");
  assert.deepEqual(
    traceTablePids(
      "table inet filt\ntable inet ipft_trace_12\ntable ip ipft_trace_13\ntable inet ipft_trace_99x\n",
    ),
    [12],
  );
});

test("a rule's drop: table, chain, hook, handle, rule text; iptables-nft's tables say so", () => {
  const rule = CAPTURED.find((e) => e.handle === 3n && e.verdict === 0)!;
  const d = explainTraced(rule, parseChainListing(LISTING));
  assert.equal(d.place, "nft rule inet filt input handle 3");
  assert.deepEqual(d.why, {
    cause: "NFT_RULE",
    failure: true,
    text: "an nftables rule dropped it",
    facts: [
      { name: "table", value: "inet filt" },
      { name: "chain", value: "input" },
      { name: "hook", value: "input" },
      { name: "handle", value: "3" },
      { name: "rule", value: "icmp type echo-request counter packets 1 bytes 84 drop" },
    ],
  });
  const ipt = explainTraced({ ...rule, family: 2, table: "filter", chain: "INPUT" }, undefined);
  assert.equal(ipt.why.text, "an iptables rule (iptables-nft) dropped it");
  assert.equal(ipt.why.facts[0]!.value, "ip filter (iptables-nft's, by its name)");
  assert.match(ipt.why.facts.find((f) => f.name === "rule")!.value, /^unknown/);
  assert.ok(isIptablesTable("ip6", "mangle") && !isIptablesTable("inet", "filter"));
});

test("a policy's drop, and a drop no event matched (said, not guessed)", () => {
  const policy = CAPTURED.find((e) => e.chain === "input2" && e.verdict === 0)!;
  const d = explainTraced(policy, { hook: "input", rules: new Map() });
  assert.equal(d.why.cause, "NFT_POLICY");
  assert.equal(d.place, "nft chain inet filt input2 policy");
  assert.deepEqual(d.why.facts.at(-1), { name: "policy", value: "drop" });
  const u = unmatched("why");
  assert.equal(u.why.cause, "NETFILTER_DROP");
  assert.deepEqual(u.why.facts, [{ name: "nft trace", value: "found no event of this drop (why)" }]);
});
