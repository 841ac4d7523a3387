// The parser's answers for the running kernel's BTF agree with bpftool's raw dump of the same file.
// Needs this machine: /sys/kernel/btf/vmlinux and bpftool (each test skips, saying which is missing).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { type Btf, loadKernelBtf } from "../../src/btf/index.js";
import { type AttachPoint, discoverAttachPoints } from "../../src/plan/attach-points.js";
import { bpftoolAvailable, bpftoolRaw, type RawDump } from "./bpftool-raw.js";

const PATH = "/sys/kernel/btf/vmlinux";
const noBtf = existsSync(PATH) ? undefined : `no ${PATH} on this kernel`;
const skip = noBtf ?? (bpftoolAvailable() ? undefined : "bpftool not installed (apt-get install -y bpftool)");

let cache: { btf: Btf; dump: RawDump } | undefined;
function both() {
  cache ??= { btf: loadKernelBtf({ vmlinux: PATH }).vmlinux, dump: bpftoolRaw(PATH) };
  return cache;
}

const SKB = ["mark", "len", "head", "end", "dev", "data", "protocol", "cb", "tstamp"];
const SHINFO = ["gso_size", "gso_segs", "gso_type", "nr_frags"];

test("sk_buff and skb_shared_info: offsets, sizes and type names agree with bpftool", { skip }, () => {
  const { btf, dump } = both();
  for (const [struct, members] of [
    ["sk_buff", SKB],
    ["skb_shared_info", SHINFO],
  ] as const) {
    const sid = dump.struct(struct);
    assert.equal(btf.sizeof(struct), dump.size(sid), `sizeof ${struct}`);
    assert.equal(btf.sizeof(`struct ${struct}`), dump.size(sid));
    for (const m of members) {
      const want = dump.member(sid, m);
      assert.ok(want, `bpftool knows ${struct}.${m}`);
      assert.equal(btf.offsetof(struct, m) * 8, want.bits, `offsetof ${struct}.${m}`);
      const t = btf.typeof(struct, m);
      const r = dump.resolve(want.type);
      if (dump.type(r).kind === "PTR") assert.equal(t, "uintptr_t", `${struct}.${m} is a pointer`);
      else if (dump.type(want.type).kind !== "ARRAY") {
        assert.equal(btf.sizeof(t), dump.size(want.type), `sizeof typeof ${struct}.${m} (${t})`);
      }
    }
  }
  assert.equal(btf.typeof("sk_buff", "mark"), "__u32");
  assert.equal(btf.typeof("skb_shared_info", "gso_size"), "short unsigned int");
});

test("type count, and kind and name of every 499th type, agree with bpftool", { skip }, () => {
  const { btf, dump } = both();
  assert.equal(btf.typeCount, dump.lastId);
  const KINDS = ["UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE"];
  KINDS.push(
    "CONST",
    "RESTRICT",
    "FUNC",
    "FUNC_PROTO",
    "VAR",
    "DATASEC",
    "FLOAT",
    "DECL_TAG",
    "TYPE_TAG",
    "ENUM64",
  );
  for (let id = 1; id <= btf.typeCount; id += 499) {
    assert.equal(KINDS[btf.kind(id)], dump.type(id).kind, `kind of ${id}`);
    assert.equal(btf.name(id), dump.type(id).name, `name of ${id}`);
  }
});

test("enum bpf_func_id agrees with bpftool", { skip }, () => {
  const { btf, dump } = both();
  const ours = btf.enumValues("bpf_func_id");
  const id = dump.types.findIndex((t) => t?.kind === "ENUM" && t.name === "bpf_func_id");
  const theirs = new Map(dump.type(id).items.map((i) => [i.name, BigInt(i.attrs.get("val")!)]));
  assert.deepEqual(ours, theirs);
  assert.equal(ours.get("BPF_FUNC_map_lookup_elem"), 1n);
});

/** Discovery done again on bpftool's dump, the simple way. */
function discoverFromDump(dump: RawDump): Map<string, string> {
  const out = new Map<string, string>();
  dump.types.forEach((t, id) => {
    if (t.kind === "FUNC" && !out.has(`function ${t.name}`)) {
      const proto = dump.type(Number(t.attrs.get("type_id")));
      let pos = 0;
      for (let i = 0; i < proto.items.length; i++) {
        const pt = Number(proto.items[i]!.attrs.get("type_id"));
        if (pt === 0 || ["STRUCT", "UNION"].includes(dump.type(dump.resolve(pt)).kind)) return;
        if (pos === 0 && dump.isSkbPtr(pt)) pos = i + 1;
      }
      if (pos) out.set(`function ${t.name}`, `${pos}/${proto.items.length}/${id}`);
    } else if (t.kind === "TYPEDEF" && t.name.startsWith("btf_trace_")) {
      const ptr = dump.type(Number(t.attrs.get("type_id")));
      const proto = dump.type(Number(ptr.attrs.get("type_id")));
      const args = proto.items.slice(1).map((a) => Number(a.attrs.get("type_id")));
      const pos = args.findIndex((a) => a !== 0 && dump.isSkbPtr(a));
      if (pos >= 0) out.set(`tracepoint ${t.name.slice(10)}`, `${pos + 1}/${args.length}/${id}`);
    }
  });
  return out;
}

test("attach-point discovery finds what bpftool's dump says, with the same positions", { skip }, () => {
  const { btf, dump } = both();
  const pts = discoverAttachPoints(btf, "vmlinux");
  const ours = new Map(pts.map((p) => [`${p.kind} ${p.name}`, `${p.skbPos}/${p.nargs}/${p.btfId}`]));
  assert.equal(ours.size, pts.length, "names are unique");
  assert.deepEqual(ours, discoverFromDump(dump));
});

test("discovery on vmlinux: counts and well-known positions", { skip: noBtf }, () => {
  const btf = loadKernelBtf({ vmlinux: PATH }).vmlinux;
  const pts = discoverAttachPoints(btf, "vmlinux");
  const by = (kind: string, name: string): AttachPoint | undefined =>
    pts.find((p) => p.kind === kind && p.name === name);
  const fns = pts.filter((p) => p.kind === "function").length;
  const tps = pts.length - fns;
  assert.ok(fns > 1500 && fns < 5000, `${fns} functions`);
  assert.ok(tps >= 20 && tps < 80, `${tps} tracepoints`);
  assert.equal(by("tracepoint", "netif_receive_skb")?.skbPos, 1);
  assert.equal(by("tracepoint", "kfree_skb")?.skbPos, 1);
  assert.equal(by("tracepoint", "qdisc_dequeue")?.skbPos, 4);
  assert.equal(by("tracepoint", "qdisc_dequeue")?.nargs, 4);
  assert.equal(btf.name(by("tracepoint", "kfree_skb")!.btfId), "btf_trace_kfree_skb");
  assert.equal(by("function", "ip_rcv")?.skbPos, 1);
  assert.equal(by("function", "ip_rcv")?.nargs, 4);
  assert.equal(by("function", "ip_rcv")?.module, "vmlinux");
  assert.equal(by("function", "printk"), undefined);
});
