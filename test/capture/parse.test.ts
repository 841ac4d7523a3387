import assert from "node:assert/strict";
import { test } from "node:test";
import { CaptureError, parseSpec } from "../../src/capture/index.js";
import { exprText } from "../../src/capture/parse.js";

test("expressions: members, arrows, indexes, casts, sums and skb_shinfo parse to one canonical text", () => {
  const cases: [string, string][] = [
    ["skb->len", "skb->len"],
    [" skb -> dev -> name ", "skb->dev->name"],
    ["skb->sk->__sk_common.skc_family", "skb->sk->__sk_common.skc_family"],
    ["skb->cb[0x2]", "skb->cb[2]"],
    ["skb_shinfo(skb)->gso_size", "skb_shinfo(skb)->gso_size"],
    [
      "(struct iphdr *)(skb->head + skb->network_header)",
      "((struct iphdr *)(skb->head + skb->network_header))",
    ],
    [
      "((iphdr *)(skb->head + skb->network_header + 0))->ttl",
      "((struct iphdr *)((skb->head + skb->network_header) + 0))->ttl",
    ],
    ["ip->saddr", "ip->saddr"],
  ];
  for (const [src, want] of cases) assert.equal(exprText(parseSpec(src).expr), want, src);
});

test("labels: given with LABEL=, else the last member (or the one before a generic name)", () => {
  assert.equal(parseSpec("skb->len").label, "len");
  assert.equal(parseSpec("skb->dev->name").label, "dev");
  assert.equal(parseSpec("skb->cb[3]").label, "cb");
  assert.equal(parseSpec("ip->saddr:ip4").label, "saddr");
  assert.equal(parseSpec("skb").label, "skb");
  const s = parseSpec("gso = skb_shinfo(skb)->gso_size:hex");
  assert.equal(s.label, "gso");
  assert.equal(s.labelled, true);
  assert.deepEqual(s.format, { name: "hex" });
  assert.deepEqual(parseSpec("ip->protocol:enum( IPPROTO )").format, { name: "enum", arg: "IPPROTO" });
  assert.deepEqual(parseSpec("x=skb->pkt_type:enum(enum pkt_type)").format, {
    name: "enum",
    arg: "enum pkt_type",
  });
});

test("syntax errors say where", () => {
  const bad: [string, RegExp][] = [
    ["", /empty expression/],
    ["skb->", /expected a member name but found the end/],
    ["skb->len)", /unexpected "\)" at column 9/],
    ["skb->cb[x]", /expected an index number/],
    ["skb - len", /unexpected "-" at column 5/],
    ["(struct iphdr)skb", /expected "\*"/],
    ["skb->len:", /is not a format/],
    ["skb->len:enum(", /is not a format/],
    ["skb_shinfo(skb", /expected "\)"/],
  ];
  for (const [src, re] of bad)
    assert.throws(
      () => parseSpec(src),
      (e: Error) => e instanceof CaptureError && re.test(e.message),
      src,
    );
});
