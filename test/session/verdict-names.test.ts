// Drop reasons are named from the running kernel's enum, never from numbers ipft knows: a kernel that
// numbers them differently gets its own names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Btf } from "../../src/btf/index.js";
import { VerdictNames } from "../../src/session/verdict-names.js";
import { BtfBuilder } from "../btf/btf-builder.js";

function kernel(reasons: [string, number][]): Btf {
  const b = new BtfBuilder();
  b.enumeration("skb_drop_reason", reasons);
  b.enumeration("skb_drop_reason_subsys", [
    ["SKB_DROP_REASON_SUBSYS_CORE", 0],
    ["SKB_DROP_REASON_SUBSYS_OPENVSWITCH", 2],
  ]);
  b.enumeration("ovs_drop_reason", [["OVS_DROP_LAST_ACTION", (2 << 16) | 1]]);
  return Btf.fromBytes(b.build());
}

test("reasons by this kernel's numbering, prefix removed; MAX and MASK are not reasons", () => {
  const a = new VerdictNames(
    kernel([
      ["SKB_NOT_DROPPED_YET", 0],
      ["SKB_CONSUMED", 1],
      ["SKB_DROP_REASON_NOT_SPECIFIED", 2],
      ["SKB_DROP_REASON_NO_SOCKET", 3],
      ["SKB_DROP_REASON_MAX", 4],
      ["SKB_DROP_REASON_SUBSYS_MASK", 0xffff0000],
    ]),
    undefined,
  );
  // Another kernel: reasons added in the middle, so the same name has another number.
  const b = new VerdictNames(
    kernel([
      ["SKB_NOT_DROPPED_YET", 0],
      ["SKB_DROP_REASON_NOT_SPECIFIED", 1],
      ["SKB_DROP_REASON_PKT_TOO_SMALL", 2],
      ["SKB_DROP_REASON_NETFILTER_DROP", 3],
      ["SKB_DROP_REASON_NO_SOCKET", 7],
    ]),
    undefined,
  );
  assert.equal(a.reason(3), "NO_SOCKET");
  assert.equal(b.reason(3), "NETFILTER_DROP");
  assert.equal(b.reason(7), "NO_SOCKET");
  assert.equal(a.reason(1), "SKB_CONSUMED");
  assert.equal(a.reason(4), "4", "MAX is a bound, not a reason");
  assert.equal(a.reason(99), "99");
});

test("subsystem reasons: the subsystem's own enum names the value", () => {
  const n = new VerdictNames(kernel([["SKB_DROP_REASON_NO_SOCKET", 3]]), undefined);
  assert.equal(n.reason((2 << 16) | 1), "OPENVSWITCH:OVS_DROP_LAST_ACTION");
  assert.equal(n.reason((2 << 16) | 5), "OPENVSWITCH:5");
  assert.equal(n.reason(7 << 16), String(7 << 16), "an unknown subsystem stays a number");
});

test("locations: function+offset through kallsyms, hex without it", () => {
  const btf = kernel([["SKB_DROP_REASON_NO_SOCKET", 3]]);
  const ks = {
    resolve: (a: bigint) =>
      a >= 0x1000n ? { name: "__udp4_lib_rcv", module: "vmlinux", offset: Number(a - 0x1000n) } : undefined,
  };
  const n = new VerdictNames(btf, ks as never);
  assert.equal(n.location(0x14bcn), "__udp4_lib_rcv+0x4bc");
  assert.equal(n.location(0x10n), "0x10");
});
