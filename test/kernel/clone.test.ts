// Tracking follows clones and copies on the function backends: marked TCP segments over loopback, with a
// packet socket open so the kernel clones each segment (test/support/clone-traffic.ts). A clone event
// links to a packet traced before it, and the clone's own journey is traced under its own track id (the
// aggregate output groups by it). The tracepoint backend cannot see return values: -v says clones are not
// followed there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hostOnlySkipReason, ipft, jsonLines, kernelSkipReason, ROOT } from "../support/run.js";

const skip = kernelSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const functionSkip =
  BACKEND === "tracepoint"
    ? "the tracepoint backend sees no return value, so it cannot follow clones (run with IPFT_TEST_BACKEND=kprobe, kprobe-multi or ftrace)"
    : undefined;
const TRAFFIC = [
  process.execPath,
  `${ROOT}dist/test/support/clone-traffic.js`,
  "--mark",
  "0x2c",
  "--count",
  "4",
];
// The transmit path and the packet socket's receive: the clone functions attach whatever -r says.
const SELECT = ["-b", BACKEND, "-r", "^(__dev_queue_xmit|packet_rcv|tcp_v4_rcv)$", "-m", "0x2c"];
const CLONE_FUNCTIONS = new Set(["skb_clone", "skb_copy", "__pskb_copy_fclone", "skb_copy_expand"]);

type Event = Record<string, string | number | boolean | null>;

test("a clone of a tracked packet: a clone event links to its parent, traced before it", {
  skip: skip ?? functionSkip,
}, (t) => {
  const r = ipft([...SELECT, "-v", "-o", "json", "--", ...TRAFFIC]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^ipft: tracking \(.*\): .*a clone or copy of it is followed too/m);
  assert.match(r.stderr, /^ipft: clones and copies followed at [1-9]\d* functions: .*skb_clone/m);
  const evs = jsonLines<Event>(r.stdout);
  const clones = evs.filter((e) => e.parent !== undefined);
  assert.ok(clones.length > 0, `no clone event:\n${r.stdout.slice(0, 4000)}\n${r.stderr}`);
  for (const c of clones) {
    assert.ok(CLONE_FUNCTIONS.has(String(c.function)), JSON.stringify(c));
    assert.equal(c.is_return, false, JSON.stringify(c));
    assert.notEqual(c.parent, c.skb, JSON.stringify(c));
  }
  // The parent was traced before the clone was made (it is why the clone is followed).
  const linked = clones.filter((c) =>
    evs.some((e) => e.skb === c.parent && Number(e.timestamp) <= Number(c.timestamp)),
  );
  assert.ok(
    linked.length > 0,
    `no clone's parent was traced before it:\n${clones.map((c) => JSON.stringify(c)).join("\n")}`,
  );
  // And the clone goes on: a later event of its packet (packet_rcv, or its verdict).
  const onward = linked.filter((c) =>
    evs.some((e) => e.packet_id === c.packet_id && Number(e.timestamp) > Number(c.timestamp)),
  );
  assert.ok(onward.length > 0, `no clone was traced after its clone event:\n${r.stdout.slice(0, 4000)}`);
  const c = onward[0]!;
  const lines = r.stdout.split("\n");
  t.diagnostic(lines.filter((l) => l.includes(String(c.parent)) || l.includes(String(c.skb))).join("\n"));
});

test("the aggregate output: the clone's events form its own packet, which names its parent's", {
  skip: skip ?? functionSkip,
}, (t) => {
  const r = ipft([...SELECT, "--", ...TRAFFIC]);
  assert.equal(r.status, 0, r.stderr);
  // Each packet's `=== packet N, skb 0x...` line, then its events.
  const parts = r.stdout.split(/^=== packet (\d+), skb 0x[0-9a-f]+(?:, took \S+)?(?: : .*)?\n/m).slice(1);
  const ids = new Set(parts.filter((_, i) => i % 2 === 0));
  const groups = parts.filter((_, i) => i % 2 === 1).map((g) => g.split("\n").filter((l) => /^\d/.test(l)));
  let shown = "";
  let ok = 0;
  for (const g of groups) {
    const at = g.findIndex((l) => / clone of 0x[0-9a-f]+/.test(l));
    if (at < 0) continue;
    shown ||= g.join("\n");
    // The clone event is the clone's first event, and its group (its track id) goes on after it.
    assert.equal(at, 0, g.join("\n"));
    const parent = / clone of 0x[0-9a-f]+, packet (\d+)$/.exec(g[0]!);
    if (parent && ids.has(parent[1]!) && g.length > 1) ok++;
  }
  assert.ok(shown, `no clone event:\n${r.stdout.slice(0, 4000)}`);
  t.diagnostic(shown);
  assert.ok(ok > 0, `no clone packet with its parent's group and more events:\n${r.stdout.slice(0, 6000)}`);
});

test("on the tracepoint backend, -v says clones are not followed", {
  skip: skip ?? hostOnlySkipReason(),
}, () => {
  const r = ipft(["-b", "tracepoint", "-v", "-m", "0x2c", "--", "true"]);
  assert.match(
    r.stderr,
    /^ipft: clones and copies are not followed: the tracepoint backend cannot see a function's return value/m,
  );
  assert.match(
    r.stderr,
    /a clone or copy \(skb_clone, skb_copy, pskb_copy\) is another skb, followed only if/,
  );
});
