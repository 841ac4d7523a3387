// Where no packet starts (plan/late-free.ts), and how the backends' shared programs keep those points apart.
import assert from "node:assert/strict";
import { test } from "node:test";
import { groupBySkbPos, groupSuffix } from "../../src/backends/group.js";
import type { AttachPoint } from "../../src/plan/attach-points.js";
import { startsPackets } from "../../src/plan/late-free.js";

const fn = (name: string, skbPos = 1): AttachPoint => ({
  name,
  module: "vmlinux",
  kind: "function",
  skbPos,
  nargs: 2,
  btfId: 1,
});

test("no packet starts at its free path nor where it is handed over to be freed", () => {
  for (const n of ["napi_consume_skb", "skb_attempt_defer_free", "skb_release_data", "kfree_skbmem"])
    assert.equal(startsPackets(fn(n)), false, n);
  for (const n of ["ip_rcv", "consume_skb", "kfree_skb_reason", "__netif_receive_skb_core"])
    assert.equal(startsPackets(fn(n)), true, n);
  // A tracepoint of that name would be another point.
  assert.equal(startsPackets({ ...fn("napi_consume_skb"), kind: "tracepoint" }), true);
});

test("the shared programs: ordinary points, the free path, and the hand-over, apart per skb position", () => {
  const groups = groupBySkbPos([
    fn("ip_rcv"),
    fn("napi_consume_skb"),
    fn("skb_release_data"),
    fn("udp_queue_rcv_skb", 2),
    fn("skb_attempt_defer_free"),
  ]);
  assert.deepEqual(
    groups.map((g) => [groupSuffix(g), g.points.map((p) => p.name)]),
    [
      ["skb1", ["ip_rcv"]],
      ["skb1_handoff", ["napi_consume_skb", "skb_attempt_defer_free"]],
      ["skb1_free", ["skb_release_data"]],
      ["skb2", ["udp_queue_rcv_skb"]],
    ],
  );
  assert.deepEqual(
    groups.map((g) => [g.freeing, g.noNewPackets]),
    [
      [false, false],
      [false, true],
      [true, true],
      [false, false],
    ],
  );
});
