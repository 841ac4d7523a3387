// A netfilter drop no trace event matched says why: nftables tracing is per network namespace, so a drop in
// another namespace than the traced one names both and the option that traces it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { unmatched, unmatchedWhy } from "../../src/nftrace/tracer.js";

const names = new Map([
  [4026531840, "root"],
  [4026532304, "router"],
]);
const nameOf = (i: number) => names.get(i) ?? `netns:${i}`;

test("a drop in another namespace: both named, and --nft-trace= with the drop's", () => {
  const why = unmatchedWhy(4026532304, 4026531840, true, nameOf);
  assert.equal(
    why,
    "the drop was in namespace router and --nft-trace traces namespace root's nftables: use --nft-trace=router",
  );
  const d = unmatched(why);
  assert.equal(d.why.cause, "NETFILTER_DROP");
  assert.match(d.why.facts![0]!.value, /^found no event of this drop \(the drop was in namespace router /);
});

test("the traced namespace, or one not known: not traced, or no bytes to match by", () => {
  assert.match(unmatchedWhy(4026531840, 4026531840, true, nameOf), /^the packet was not traced/);
  assert.match(unmatchedWhy(0, 4026531840, true, nameOf), /^the packet was not traced/);
  assert.match(unmatchedWhy(4026532304, undefined, true, nameOf), /^the packet was not traced/);
  assert.match(unmatchedWhy(4026531840, 4026531840, false, nameOf), /no packet bytes to match by/);
  // Traced by mark: a mark does not survive a veth into another namespace.
  assert.match(
    unmatchedWhy(4026532304, 4026532304, true, nameOf, true),
    /only packets with the selected mark, which a packet loses crossing a veth .*select it by a filter/,
  );
});
