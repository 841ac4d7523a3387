// docs/capture.md's examples against the kernel verifier: every capture the page shows (in its commands, its
// Lua block, and the expressions quoted in its prose) is compiled and loaded with --test on the backend under
// test (IPFT_TEST_BACKEND, as the other kernel tests), so an example the kernel would refuse cannot stay
// documented.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type Expr, parseSpec } from "../../src/capture/parse.js";
import { ipft, kernelSkipReason, onePassSkipReason, ROOT } from "../support/run.js";

const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
// Function backends would verify every skb function; a few are enough to judge the module.
const SELECT =
  BACKEND === "tracepoint"
    ? ["-b", BACKEND]
    : ["-b", BACKEND, "-r", "^(__dev_queue_xmit|__netif_receive_skb|ip_rcv|kfree_skb_reason)$"];
// What the verifier accepts differs between kernels, not backends (captures read through the skb pointer the
// same way on each): the guests run this file once per kernel, in the tracepoint run.
const skip = kernelSkipReason() ?? onePassSkipReason() ?? unsupported();

/** The backend's own refusal on this kernel (fentry where BPF trampolines are not allowed), if any. */
function unsupported(): string | undefined {
  const r = ipft([...SELECT, "-m", "1", "--test"]);
  return r.status !== 0 && /is not supported here/.test(r.stderr) ? r.stderr.trim() : undefined;
}

const ROOTS = new Set(["skb", "eth", "ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6"]);

/** Every name the expression starts from is skb or a header: it is a capture, not prose such as `a->m`. */
function isCapture(e: Expr): boolean {
  switch (e.k) {
    case "name":
      return ROOTS.has(e.name);
    case "num":
      return false;
    case "member":
    case "index":
      return isCapture(e.base);
    case "cast":
      return isCapture(e.expr);
    case "add":
      return isCapture(e.left) || isCapture(e.right);
    case "call":
      return e.fn === "skb_shinfo" && isCapture(e.arg);
  }
}

function parsesAsCapture(text: string): boolean {
  try {
    return isCapture(parseSpec(text).expr);
  } catch {
    return false;
  }
}

/** The page's captures: each command's (and the Lua block's) set as written, and each quoted expression. */
function docCaptures(md: string): { sets: string[][]; inline: string[] } {
  const sets: string[][] = [];
  const prose: string[] = [];
  const parts = md.split(/^```.*$/m);
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      prose.push(part);
      return;
    }
    const set = [...part.matchAll(/(?:--capture|-c)\s+(?:'([^']*)'|"([^"]*)")/g)].map((m) => m[1] ?? m[2]!);
    for (const call of part.matchAll(/ipft\.capture\s*\{([^}]*)\}/g))
      set.push(...[...call[1]!.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]!));
    if (set.length > 0) sets.push(set);
  });
  const inline = new Set<string>();
  for (const p of prose)
    for (const m of p.matchAll(/`([^`\n]+)`/g)) if (parsesAsCapture(m[1]!)) inline.add(m[1]!);
  return { sets, inline: [...inline] };
}

const md = readFileSync(`${ROOT}docs/capture.md`, "utf8");
const { sets, inline } = docCaptures(md);

// Grammar forms the page describes without a full example of its own.
const FORMS = [
  "skb->cb[0]",
  "skb->head[3]",
  "(skb->head + skb->network_header)[9]",
  "(iphdr *)(skb->head + skb->network_header)",
  "((union tcp_word_hdr *)(skb->head + skb->transport_header))->hdr.dest",
  "ip6->daddr.in6_u.u6_addr8[15]",
  "skb->dev->ifindex + skb->len + 2",
  "1 + skb->len",
];
// Two sets: all of them take more than the 64 bytes.
const FORMATS = [
  [
    "a=skb->len:dec",
    "b=skb->mark:hex",
    "c=skb->len:bool",
    "d=skb->dev->name:str",
    "e=eth->h_source:mac",
    "f=ip->saddr:ip4",
  ],
  [
    "g=ip6->daddr:ip6",
    "h=skb->dev->ml_priv_type:enum",
    "i=ip->protocol:enum(IPPROTO)",
    "j=skb_shinfo(skb)->gso_type:flags(SKB_GSO)",
  ],
];

function verify(captures: string[]): void {
  const r = ipft([...SELECT, "-m", "1", "--test", ...captures.flatMap((c) => ["--capture", c])]);
  assert.equal(r.status, 0, `${captures.join("  ")}:\n${r.stderr}`);
  assert.match(r.stdout, /^ok: \d+ programs passed the verifier .*module of \d+ instructions/);
}

test("the page's examples are found (commands, the Lua block, sums and casts in the text)", () => {
  const all = [...sets.flat(), ...inline];
  for (const want of [
    "udp->dest",
    "family=skb->sk->__sk_common.skc_family",
    "gso_size=skb_shinfo(skb)->gso_size",
    "skb->len + 1",
    "skb->head + skb->network_header + 20",
    "(struct iphdr *)(skb->head + skb->network_header)",
    "tcp->doff",
  ])
    assert.ok(all.includes(want), `${want} among ${JSON.stringify(all)}`);
  assert.ok(!all.includes("a->m"), "prose placeholders are not captures");
});

for (const set of sets) test(`docs/capture.md, together: ${set.join("  ")}`, { skip }, () => verify(set));
for (const text of inline) test(`docs/capture.md: ${text}`, { skip }, () => verify([text]));
for (const text of FORMS) test(`grammar: ${text}`, { skip }, () => verify([text]));
for (const set of FORMATS) test(`formats: ${set.join("  ")}`, { skip }, () => verify(set));
