import assert from "node:assert/strict";
import { test } from "node:test";
import { Btf, BtfError } from "../../src/btf/index.js";
import { discoverAttachPoints } from "../../src/plan/attach-points.js";
import { BtfBuilder } from "./btf-builder.js";

/** A miniature kernel: sk_buff with an anonymous union around `mark`, typedefs, pointers, a bitfield. */
function kernel() {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4);
  const u16 = b.int("short unsigned int", 2);
  const u8 = b.int("unsigned char", 1);
  const char = b.int("char", 1, true);
  const __u32 = b.typedef("__u32", u32);
  const dataT = b.typedef("sk_buff_data_t", u32);
  const fwdDev = b.struct("net_device", 24, []); // filled below as a real struct
  const devPtr = b.ptr(fwdDev);
  const markUnion = b.struct(
    "",
    4,
    [
      ["mark", __u32, 0],
      ["reserved_tailroom", __u32, 0],
    ],
    true,
  );
  const headers = b.struct("", 8, [
    ["priority", __u32, 0],
    ["", markUnion, 32],
  ]);
  const arr = b.array(char, 16, u32);
  const skb = b.struct("sk_buff", 64, [
    ["dev", devPtr, 0],
    ["len", u32, 64],
    ["cloned", u8, 96, 1],
    ["", headers, 128],
    ["end", dataT, 256],
    ["head", b.ptr(u8), 320],
    ["cb", arr, 384],
  ]);
  const skbPtr = b.ptr(skb);
  const cskbPtr = b.ptr(b.konst(skb));
  const sock = b.struct("sock", 8, [["sk_mark", __u32, 0]]);
  b.enumeration("bpf_func_id", [
    ["BPF_FUNC_unspec", 0],
    ["BPF_FUNC_map_lookup_elem", 1],
    ["BPF_FUNC_ringbuf_output", 130],
  ]);
  b.enum64("big", [["BIG_ONE", 1n << 40n]]);
  // Functions: skb second, a const skb, none, variadic, struct by value.
  b.func(
    "ip_rcv",
    b.proto(u32, [
      ["dev", devPtr],
      ["skb", skbPtr],
    ]),
  );
  b.func("consume_skb", b.proto(0, [["skb", cskbPtr]]));
  b.func("no_skb", b.proto(0, [["x", u32]]));
  b.func(
    "varargs",
    b.proto(0, [
      ["skb", skbPtr],
      ["", 0],
    ]),
  );
  b.func(
    "by_value",
    b.proto(0, [
      ["s", sock],
      ["skb", skbPtr],
    ]),
  );
  b.func(
    "ip_rcv",
    b.proto(u32, [
      ["dev", devPtr],
      ["skb", skbPtr],
    ]),
  ); // duplicate name
  // Tracepoints: ctx first, then the tracepoint's own args.
  const voidPtr = b.ptr(0);
  b.typedef(
    "btf_trace_qdisc_dequeue",
    b.ptr(
      b.proto(0, [
        ["", voidPtr],
        ["", u32],
        ["", u32],
        ["", u32],
        ["", skbPtr],
      ]),
    ),
  );
  b.typedef(
    "btf_trace_netif_rx",
    b.ptr(
      b.proto(0, [
        ["", voidPtr],
        ["", skbPtr],
      ]),
    ),
  );
  b.typedef(
    "btf_trace_not_skb",
    b.ptr(
      b.proto(0, [
        ["", voidPtr],
        ["", u32],
      ]),
    ),
  );
  void u16;
  return { bytes: b.build(), b };
}

test("offsetof looks through anonymous members and accepts a struct prefix", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  assert.equal(btf.offsetof("sk_buff", "mark"), 20);
  assert.equal(btf.offsetof("struct sk_buff", "len"), 8);
  assert.equal(btf.offsetof("sk_buff", "head"), 40);
  assert.equal(btf.offsetof("sk_buff", "priority"), 16);
});

test("offsetof refuses bitfields and unknown names with a line naming them", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  assert.throws(() => btf.offsetof("sk_buff", "cloned"), /bitfield/);
  assert.throws(
    () => btf.offsetof("sk_buf", "mark"),
    (e: Error) => e instanceof BtfError && /no struct or union named "sk_buf"/.test(e.message),
  );
  assert.throws(() => btf.offsetof("sk_buff", "marc"), /struct sk_buff has no member "marc"/);
});

test("sizeof resolves typedefs, pointers and arrays", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  assert.equal(btf.sizeof("sk_buff"), 64);
  assert.equal(btf.sizeof("sk_buff_data_t"), 4);
  assert.equal(btf.sizeof("__u32"), 4);
  assert.equal(btf.sizeof("uintptr_t"), 8);
  assert.equal(btf.sizeof("char[16]"), 16);
  assert.throws(() => btf.sizeof("no_such_type"), /no type named "no_such_type"/);
});

test("typeof names member types, uintptr_t for pointers", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  assert.equal(btf.typeof("sk_buff", "mark"), "__u32");
  assert.equal(btf.typeof("sk_buff", "len"), "unsigned int");
  assert.equal(btf.typeof("sk_buff", "dev"), "uintptr_t");
  assert.equal(btf.typeof("sk_buff", "head"), "uintptr_t");
  assert.equal(btf.typeof("sk_buff", "cb"), "char[16]");
  assert.equal(btf.sizeof(btf.typeof("sk_buff", "end")), 4);
});

test("enum and enum64 values", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  assert.equal(btf.enumValues("bpf_func_id").get("BPF_FUNC_ringbuf_output"), 130n);
  assert.equal(btf.enumValues("big").get("BIG_ONE"), 1n << 40n);
  assert.throws(() => btf.enumValues("nope"), /no enum named "nope"/);
});

test("discovery: skb functions and tracepoints with their positions", () => {
  const btf = Btf.fromBytes(kernel().bytes);
  const pts = discoverAttachPoints(btf, "vmlinux");
  const show = pts.map((p) => `${p.kind} ${p.name} ${p.skbPos}/${p.nargs}`).sort();
  assert.deepEqual(show, [
    "function consume_skb 1/1",
    "function ip_rcv 2/2",
    "tracepoint netif_rx 1/1",
    "tracepoint qdisc_dequeue 4/4",
  ]);
});

test("split BTF continues the base's ids and strings", () => {
  const { b: base, bytes } = kernel();
  const vmlinux = Btf.fromBytes(bytes);
  const m = new BtfBuilder(base.lastId + 1, base.strSize);
  const skb = vmlinux.idsNamed("sk_buff")[0]!;
  const skbPtr = m.ptr(skb);
  m.func(
    "veth_xmit",
    m.proto(0, [
      ["skb", skbPtr],
      ["dev", 0 + skbPtr],
    ]),
  );
  m.struct("veth_priv", 16, [["peer", skbPtr, 64]]);
  const mod = Btf.fromBytes(m.build(), vmlinux);
  assert.equal(mod.firstId, vmlinux.typeCount + 1);
  assert.equal(mod.offsetof("veth_priv", "peer"), 8);
  assert.equal(mod.offsetof("sk_buff", "mark"), 20, "base types are visible");
  const pts = discoverAttachPoints(mod, "veth");
  assert.deepEqual(
    pts.map((p) => [p.name, p.module, p.skbPos]),
    [["veth_xmit", "veth", 1]],
  );
});

test("bad magic and truncation are one clear line", () => {
  const { bytes } = kernel();
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => Btf.fromBytes(bad), /not BTF/);
  assert.throws(() => Btf.fromBytes(bytes.slice(0, bytes.length - 40)), /truncated/);
  assert.throws(() => Btf.fromBytes(bytes.slice(0, 10)), /not BTF|too short/);
  assert.throws(() => Btf.fromFile("/nonexistent/vmlinux"), /no BTF at \/nonexistent\/vmlinux/);
});
