// Split BTF (kernel modules), loading from files, and broken input.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BTF_KIND_STRUCT, Btf, BtfError, loadKernelBtf } from "../../src/btf/index.js";
import { discoverAttachPoints } from "../../src/plan/attach-points.js";
import { BtfBuilder } from "./btf-builder.js";

function base() {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4);
  const skb = b.struct("sk_buff", 16, [
    ["len", u32, 0],
    ["peer", u32, 32],
    ["mark", u32, 64],
  ]);
  const skbPtr = b.ptr(skb);
  b.func("kfree_skb", b.proto(0, [["skb", skbPtr]]));
  b.typedef(
    "btf_trace_kfree_skb",
    b.ptr(
      b.proto(0, [
        ["", b.ptr(0)],
        ["", skbPtr],
      ]),
    ),
  );
  return { b, u32, skb, skbPtr, bytes: b.build() };
}

function module(bb: ReturnType<typeof base>) {
  const m = bb.b.split();
  // "peer" is already a base string: the module's struct is named with the base's offset.
  const priv = m.struct("peer", 16, [
    ["skb", bb.skbPtr, 0],
    ["ifindex", bb.u32, 64],
  ]);
  const skbT = m.typedef("skb_t", m.konst(bb.skb));
  m.func(
    "veth_xmit",
    m.proto(bb.u32, [
      ["priv", m.ptr(priv)],
      ["skb", m.ptr(skbT)],
    ]),
  );
  m.func("veth_other", m.proto(0, [["x", bb.u32]]));
  m.typedef(
    "btf_trace_veth_rx",
    m.ptr(
      m.proto(0, [
        ["", m.ptr(0)],
        ["", bb.u32],
        ["", bb.skbPtr],
      ]),
    ),
  );
  return { m, priv, bytes: m.build() };
}

test("split BTF continues the base's ids and string offsets", () => {
  const bb = base();
  const vmlinux = Btf.fromBytes(bb.bytes);
  const mod = module(bb);
  const btf = Btf.fromBytes(mod.bytes, vmlinux);
  assert.equal(btf.firstId, vmlinux.typeCount + 1);
  assert.equal(mod.priv, btf.firstId);
  assert.equal(btf.typeCount, mod.m.lastId);
  assert.equal(btf.name(mod.priv), "peer", "own type named with a base string");
  assert.equal(btf.kind(bb.skb), BTF_KIND_STRUCT, "base ids answer through the module");
  assert.equal(btf.name(bb.skb), "sk_buff");
  assert.deepEqual(btf.idsNamed("peer"), [mod.priv]);
  assert.deepEqual(btf.idsNamed("sk_buff"), [bb.skb]);
  assert.equal(btf.offsetof("peer", "ifindex"), 8);
  assert.equal(btf.offsetof("sk_buff", "mark"), 8, "base structs are visible from the module");
  assert.equal(btf.sizeof("skb_t"), 16);
  assert.throws(() => vmlinux.kind(btf.firstId), /no type id/, "the base does not see module ids");
});

test("discovery on split BTF reports only the module's own functions and tracepoints", () => {
  const bb = base();
  const vmlinux = Btf.fromBytes(bb.bytes);
  const btf = Btf.fromBytes(module(bb).bytes, vmlinux);
  const pts = discoverAttachPoints(btf, "veth");
  assert.deepEqual(
    pts.map((p) => [p.kind, p.name, p.module, p.skbPos, p.nargs]),
    [
      ["function", "veth_xmit", "veth", 2, 2],
      ["tracepoint", "veth_rx", "veth", 2, 2],
    ],
  );
  for (const p of pts) assert.ok(p.btfId >= btf.firstId);
  assert.deepEqual(
    discoverAttachPoints(vmlinux, "vmlinux").map((p) => `${p.kind} ${p.name}`),
    ["function kfree_skb", "tracepoint kfree_skb"],
  );
});

test("loadKernelBtf reads vmlinux and module BTF from a directory; IPFT_BTF replaces vmlinux", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-btf-"));
  const saved = process.env.IPFT_BTF;
  try {
    const bb = base();
    writeFileSync(join(dir, "vmlinux"), bb.bytes);
    writeFileSync(join(dir, "veth"), module(bb).bytes);
    writeFileSync(join(dir, "bridge"), module(bb).bytes);
    delete process.env.IPFT_BTF;
    const k = loadKernelBtf({ vmlinux: join(dir, "vmlinux"), moduleDir: dir });
    assert.deepEqual(k.modules(), ["bridge", "veth"]);
    const veth = k.module("veth");
    assert.equal(k.module("veth"), veth, "cached");
    assert.equal(veth.base, k.vmlinux);
    assert.equal(discoverAttachPoints(veth, "veth")[0]!.name, "veth_xmit");
    assert.throws(() => k.module("nope"), /kernel module "nope" has no BTF/);
    assert.throws(() => k.module("../vmlinux"), BtfError);

    process.env.IPFT_BTF = join(dir, "vmlinux");
    const e = loadKernelBtf();
    assert.equal(e.vmlinux.typeCount, k.vmlinux.typeCount);
    assert.deepEqual(e.modules(), [], "no module BTF when vmlinux comes from elsewhere");
    process.env.IPFT_BTF = join(dir, "missing");
    assert.throws(() => loadKernelBtf(), /^BtfError: no BTF at .*missing: this kernel was built without/);
    writeFileSync(join(dir, "short"), bb.bytes.subarray(0, 100));
    process.env.IPFT_BTF = join(dir, "short");
    assert.throws(() => loadKernelBtf(), /short is truncated: 100 bytes, its header says \d+/);
  } finally {
    if (saved === undefined) delete process.env.IPFT_BTF;
    else process.env.IPFT_BTF = saved;
    rmSync(dir, { recursive: true });
  }
});

test("every truncation and a bad magic are a BtfError with one line", () => {
  const { bytes } = base();
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => Btf.fromBytes(bytes.subarray(0, n)),
      (e: Error) => e instanceof BtfError && !e.message.includes("\n") && /not BTF|truncated/.test(e.message),
      `cut at ${n}`,
    );
  }
  const bad = bytes.slice();
  bad[0] = 0x9e;
  assert.throws(
    () => Btf.fromBytes(bad),
    /is not BTF \(bad magic or too short\): magic 0xeb9e, expected 0xeb9f/,
  );
  const big = bytes.slice();
  new DataView(big.buffer).setUint32(12, 0xffff0000, true); // type_len far beyond the file
  assert.throws(() => Btf.fromBytes(big), /truncated/);
  // A type record cut in the middle, inside a type section that the header says is complete.
  const odd = bytes.slice();
  const dv = new DataView(odd.buffer);
  dv.setUint32(12, dv.getUint32(12, true) - 4, true);
  assert.throws(() => Btf.fromBytes(odd), /truncated inside type \d+/);
  assert.throws(() => Btf.fromFile("/proc"), /cannot read BTF at \/proc: EISDIR/);
});

test("byte order, version, header length and unknown kinds are refused in one line", () => {
  const { bytes } = base();
  const swapped = bytes.slice();
  swapped[0] = 0xeb;
  swapped[1] = 0x9f;
  assert.throws(() => Btf.fromBytes(swapped, undefined, "x.btf"), /^BtfError: x\.btf is big-endian BTF/);
  const v2 = bytes.slice();
  v2[2] = 2;
  assert.throws(() => Btf.fromBytes(v2), /^BtfError: BTF data is BTF version 2; ipft reads version 1$/);
  const shortHdr = bytes.slice();
  new DataView(shortHdr.buffer).setUint32(4, 8, true);
  assert.throws(() => Btf.fromBytes(shortHdr), /bad BTF header: hdr_len 8/);
  // A kind from the future: its record size is unknown, so parsing must stop there, naming the type.
  const b = new BtfBuilder();
  b.int("int", 4, true);
  b.raw("future", 20, 0, 0);
  b.int("unsigned int", 4);
  assert.throws(
    () => Btf.fromBytes(b.build()),
    /^BtfError: BTF data: type 2 has BTF kind 20, newer than ipft knows \(last is 19\)$/,
  );
});
