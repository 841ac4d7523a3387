// The explanations: a sentence for every drop reason of the kernels ipft is tested on, the causes the place
// of a drop tells apart, the drops that are not failures, and how an explanation is written.
import assert from "node:assert/strict";
import { test } from "node:test";
import { explainDrop, explanationJson, explanationText } from "../../src/explain/explanation.js";
import { REASON_TEXT } from "../../src/explain/reasons.js";
import { RULES, ruleFor } from "../../src/explain/rules.js";
import { REASONS_6_1, REASONS_6_12, REASONS_6_18 } from "./kernel-reasons.js";

test("every drop reason of Linux 6.1, 6.12 and 6.18 has a sentence of its own", () => {
  assert.ok(REASONS_6_1.length >= 60 && REASONS_6_12.length >= 100 && REASONS_6_18.length >= 120);
  for (const [kernel, names] of [
    ["6.1", REASONS_6_1],
    ["6.12", REASONS_6_12],
    ["6.18", REASONS_6_18],
  ] as const) {
    const missing = names.filter((n) => REASON_TEXT[n] === undefined);
    assert.deepEqual(missing, [], `${kernel}: reasons without a sentence`);
  }
  // A sentence, not the code again: lower case first (it follows the verdict), no final period.
  for (const [name, text] of Object.entries(REASON_TEXT)) {
    assert.match(text, /^[a-z]/, name);
    assert.doesNotMatch(text, /\.$/, name);
    assert.ok(text.length > 20, name);
  }
});

test("a reason's lookup: its cause is the reason, a failure, its sentence; no facts yet", () => {
  for (const name of REASONS_6_18) {
    const e = explainDrop(name, "some_function");
    assert.ok(e, name);
    if (ruleFor(name, "some_function")) continue; // a rule for any place (below)
    assert.deepEqual(e, { cause: name, failure: true, text: REASON_TEXT[name], facts: [] });
  }
  assert.equal(
    explainDrop("IP_RPFILTER", "ip_rcv_finish_core")?.text,
    REASON_TEXT.IP_RPFILTER,
    "a place without a rule keeps the reason's sentence",
  );
});

test("a reason this table does not know (a newer kernel's, a subsystem's) gets no sentence", () => {
  assert.equal(explainDrop("SOME_REASON_OF_LINUX_9", "ip_rcv"), undefined);
  assert.equal(explainDrop("OPENVSWITCH:OVS_DROP_LAST_ACTION", "ovs_dp_process_packet"), undefined);
  assert.equal(explainDrop("", ""), undefined);
});

test("IP_INHDR in ip_forward or ip6_forward is an expired TTL; elsewhere a bad header", () => {
  for (const fn of ["ip_forward", "ip6_forward"]) {
    const e = explainDrop("IP_INHDR", fn)!;
    assert.equal(e.cause, "TTL_EXPIRED");
    assert.equal(e.failure, true);
    assert.match(e.text, /TTL .* ran out as this host forwarded it .* ICMP time exceeded/);
  }
  const rcv = explainDrop("IP_INHDR", "ip_rcv_core")!;
  assert.equal(rcv.cause, "IP_INHDR");
  assert.match(rcv.text, /IP header is invalid/);
});

test("PKT_TOO_BIG in ip_forward or ip6_forward: over the egress MTU, with the ICMP sent back; elsewhere the reason's sentence", () => {
  for (const fn of ["ip_forward", "ip6_forward"]) {
    const e = explainDrop("PKT_TOO_BIG", fn)!;
    assert.deepEqual([e.cause, e.failure], ["MTU_EXCEEDED", true], fn);
    assert.match(e.text, /MTU .* ICMP fragmentation needed/);
  }
  assert.equal(explainDrop("PKT_TOO_BIG", "ip6_fragment")!.text, REASON_TEXT.PKT_TOO_BIG);
});

test("NO_SOCKET: an echo reply in ping_rcv or icmp_rcv is not a failure; UDP and TCP say what was sent back", () => {
  for (const fn of ["ping_rcv", "icmp_rcv", "icmpv6_rcv"]) {
    const e = explainDrop("NO_SOCKET", fn)!;
    assert.deepEqual([e.cause, e.failure], ["ECHO_REPLY_NOT_CLAIMED", false], fn);
    assert.match(e.text, /echo reply .* raw socket .* own copy/);
  }
  for (const fn of ["__udp4_lib_rcv", "__udp6_lib_rcv"]) {
    const e = explainDrop("NO_SOCKET", fn)!;
    assert.deepEqual([e.cause, e.failure], ["NO_SOCKET", true], fn);
    assert.match(e.text, /no UDP socket .* ICMP port unreachable/);
  }
  for (const fn of ["tcp_v4_rcv", "tcp_v6_rcv"])
    assert.match(explainDrop("NO_SOCKET", fn)!.text, /no TCP socket .* reset/);
  assert.equal(explainDrop("NO_SOCKET", "sctp_rcv")!.text, REASON_TEXT.NO_SOCKET);
});

test("a queue purged as its socket closes is not a failure: QUEUE_PURGE anywhere, no reason at the purge (6.1, UDP)", () => {
  for (const [reason, fn] of [
    ["QUEUE_PURGE", "skb_queue_purge_reason"],
    ["QUEUE_PURGE", "inet_sock_destruct"],
    ["QUEUE_PURGE", ""],
    ["NOT_SPECIFIED", "skb_queue_purge"],
    ["NOT_SPECIFIED", "udp_destruct_common"],
    ["NOT_SPECIFIED", "udp_destruct_sock"],
    ["NOT_SPECIFIED", "inet_sock_destruct"],
  ] as const) {
    const e = explainDrop(reason, fn)!;
    assert.deepEqual([e.cause, e.failure], ["QUEUE_PURGE", false], `${reason} at ${fn}`);
    assert.match(e.text, /not a failure of the network/);
  }
  const elsewhere = explainDrop("NOT_SPECIFIED", "ip_rcv_finish")!;
  assert.deepEqual([elsewhere.cause, elsewhere.failure], ["NOT_SPECIFIED", true]);
  // Generic XDP's XDP_DROP: no reason given, the place tells.
  for (const fn of ["netif_receive_generic_xdp", "do_xdp_generic"]) {
    const x = explainDrop("NOT_SPECIFIED", fn)!;
    assert.deepEqual([x.cause, x.failure], ["XDP", true], fn);
  }
  // TCP's receive path without a reason: the cases it has, not a bare code.
  for (const fn of ["tcp_v4_rcv", "tcp_v6_rcv"]) {
    const t = explainDrop("NOT_SPECIFIED", fn)!;
    assert.equal(t.cause, "TCP_NO_REASON", fn);
    assert.match(t.text, /TIME_WAIT.*TcpExtListenOverflows.*not addressed to this host/);
  }
  const closed = explainDrop("SOCKET_CLOSE", "tcp_close")!;
  assert.deepEqual([closed.cause, closed.failure], ["SOCKET_CLOSE", false]);
});

test("every rule names a reason the kernels have, and a rule for a place wins over one for any place", () => {
  const known = new Set([...REASONS_6_1, ...REASONS_6_12, ...REASONS_6_18]);
  for (const r of RULES) {
    assert.ok(known.has(r.reason), r.reason);
    assert.match(r.text, /^[a-z].*[^.]$/, r.cause);
  }
  assert.equal(ruleFor("QUEUE_PURGE", "anything")?.cause, "QUEUE_PURGE");
  assert.equal(ruleFor("TCP_CSUM", "tcp_v4_rcv"), undefined);
});

test("an explanation in words and in JSON; facts (none read yet) follow the sentence", () => {
  const e = explainDrop("NO_SOCKET", "__udp4_lib_rcv")!;
  assert.equal(explanationText(e), e.text);
  assert.deepEqual(JSON.parse(explanationJson(e)), { cause: "NO_SOCKET", failure: true, text: e.text });
  const withFacts = {
    ...e,
    facts: [
      { name: "port", value: "9" },
      { name: "netns", value: "ipftc" },
    ],
  };
  assert.equal(explanationText(withFacts), `${e.text} (port 9, netns ipftc)`);
  assert.deepEqual(JSON.parse(explanationJson(withFacts)).facts, { port: "9", netns: "ipftc" });
});
