// Drops explained in the writers: the cause under aggregate's Verdict line, after the verdict in stream, an
// object in json; benign drops (not failures) counted apart in the summary and left out by --drops.
import assert from "node:assert/strict";
import { test } from "node:test";
import { explainDrop } from "../../src/explain/explanation.js";
import { VERDICT_DROP } from "../../src/record/record.js";
import { type Ev, IP_RCV, PING_RCV, run, TP, UDP_LIB_RCV, UDP_WHY, UDP_WHY_LINE } from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
const C = 0xffff888100003000n;
const ECHO = explainDrop("NO_SOCKET", "ping_rcv")!;
const PURGE = explainDrop("QUEUE_PURGE", "")!;

// A: UDP to a closed port (a failure); B: an echo reply ping_rcv frees (benign); C: a queue purged (benign).
const EVENTS: Ev[] = [
  { skb: A, ts: 100n, func: IP_RCV, cpu: 0 },
  {
    skb: A,
    ts: 110n,
    func: TP,
    cpu: 0,
    verdict: { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x4bcn },
  },
  { skb: B, ts: 120n, func: IP_RCV, cpu: 0 },
  {
    skb: B,
    ts: 130n,
    func: TP,
    cpu: 0,
    verdict: { kind: VERDICT_DROP, reason: 3, location: PING_RCV + 0xb3n },
  },
  { skb: C, ts: 140n, func: TP, cpu: 1, verdict: { kind: VERDICT_DROP, reason: 77, location: 0n } },
];

const SUMMARY = [
  "3 packets: 1 dropped, 2 benign drops, 0 consumed, 0 delivered, 0 without a verdict",
  "1 dropped: NO_SOCKET at __udp4_lib_rcv (1)",
  UDP_WHY_LINE,
  "2 benign drops (not failures): ECHO_REPLY_NOT_CLAIMED (NO_SOCKET) at ping_rcv (1), QUEUE_PURGE at an unknown place (1)",
  `  ECHO_REPLY_NOT_CLAIMED: ${ECHO.text}`,
  `  QUEUE_PURGE: ${PURGE.text}`,
];

test("aggregate: the cause on a line under each drop's Verdict line", () => {
  const { out } = run("aggregate", EVENTS, { verdicts: true });
  const ends = out
    .split(/^===.*\n/m)
    .slice(1)
    .map((p) => p.trimEnd().split("\n").slice(-2));
  assert.deepEqual(ends, [
    ["Verdict: dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc", `Cause: ${UDP_WHY}`],
    ["Verdict: dropped (NO_SOCKET) at ping_rcv+0xb3", `Cause: ${ECHO.text}`],
    [ends[2]![0]!, `Cause: ${PURGE.text}`],
  ]);
  assert.equal(ends[2]![0], "Verdict: dropped (QUEUE_PURGE)");
});

test("stream: the cause after the verdict, on its line; json: an explanation object on the verdict event", () => {
  const stream = run("stream", EVENTS, { verdicts: true }).out.trimEnd().split("\n");
  assert.ok(
    stream[3]!.endsWith(` netif_receive_skb dropped (NO_SOCKET) at ping_rcv+0xb3: ${ECHO.text}`),
    stream[3],
  );
  const json = run("json", EVENTS, { verdicts: true })
    .out.trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    json.map((e) => e.explanation),
    [
      undefined,
      { cause: "NO_SOCKET", failure: true, text: UDP_WHY },
      undefined,
      { cause: "ECHO_REPLY_NOT_CLAIMED", failure: false, text: ECHO.text },
      { cause: "QUEUE_PURGE", failure: false, text: PURGE.text },
    ],
  );
});

test("the summary: benign drops counted apart from drops, each group's causes said once", () => {
  for (const kind of ["aggregate", "stream", "json"] as const)
    assert.deepEqual(run(kind, EVENTS, { verdicts: true }).w.summary(), SUMMARY, kind);
});

test("--drops: a benign drop is left out like a consume; the summary still counts it", () => {
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const { out, w } = run(kind, EVENTS, { dropsOnly: true });
    assert.match(out, /__udp4_lib_rcv/, kind);
    assert.doesNotMatch(out, /ping_rcv|QUEUE_PURGE/, kind);
    assert.deepEqual(w.summary(), SUMMARY, kind);
  }
});

test("a drop's own facts (--nft-trace's rule): each writer, and the summary by rule", () => {
  const ruleWhy = {
    cause: "NFT_RULE",
    failure: true,
    text: "an nftables rule dropped it",
    facts: [
      { name: "table", value: "inet filter" },
      { name: "handle", value: "7" },
    ],
  };
  // Two netfilter drops (reason 9); only the one at ts 110 has facts.
  const evs: Ev[] = [
    { skb: A, ts: 110n, func: TP, cpu: 0, verdict: { kind: VERDICT_DROP, reason: 9, location: 0n } },
    { skb: B, ts: 130n, func: TP, cpu: 0, verdict: { kind: VERDICT_DROP, reason: 9, location: 0n } },
  ];
  const dropDetails = {
    get: (hi: number, lo: number) =>
      hi === 0 && lo === 110 ? { why: ruleWhy, place: "nft rule inet filter forward handle 7" } : undefined,
  };
  const agg = run("aggregate", evs, { verdicts: true, dropDetails });
  assert.match(agg.out, /^Cause: an nftables rule dropped it \(table inet filter, handle 7\)$/m);
  assert.match(agg.out, /^Cause: a netfilter rule or chain policy dropped it/m);
  const summary = agg.w.summary();
  assert.equal(
    summary[1],
    "2 dropped: nft rule inet filter forward handle 7 (1), NETFILTER_DROP at an unknown place (1)",
  );
  assert.ok(
    summary.includes("  NFT_RULE: an nftables rule dropped it (table inet filter, handle 7)"),
    summary.join("\n"),
  );
  const json = run("json", evs, { verdicts: true, dropDetails })
    .out.trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(json[0]!.explanation, { ...ruleWhy, facts: { table: "inet filter", handle: "7" } });
  assert.equal((json[1]!.explanation as { cause: string }).cause, "NETFILTER_DROP");
  const stream = run("stream", evs, { verdicts: true, dropDetails }).out;
  assert.match(
    stream,
    /dropped \(NETFILTER_DROP\): an nftables rule dropped it \(table inet filter, handle 7\)$/m,
  );
});
