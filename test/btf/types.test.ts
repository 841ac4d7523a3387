// Type queries on hand-built BTF: typedef chains, qualifiers, pointers, bitfields, arrays, enums, and the
// lower-level API the expression compiler uses.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_FWD,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VOLATILE,
  Btf,
  BtfError,
} from "../../src/btf/index.js";
import { BtfBuilder } from "./btf-builder.js";

function build() {
  const b = new BtfBuilder();
  const u32 = b.int("unsigned int", 4);
  const u64 = b.int("long long unsigned int", 8);
  const u16 = b.int("short unsigned int", 2);
  const s32 = b.int("int", 4, true);
  const ch = b.int("char", 1, true);
  // A forward declaration first: sizeof/offsetof must find the real struct after it.
  const fwd = b.fwd("flow");
  // Typedef chain: u32_t -> __u32 -> const volatile unsigned int.
  const cvU32 = b.konst(b.volatile(u32));
  const __u32 = b.typedef("__u32", cvU32);
  const u32t = b.typedef("u32_t", __u32);
  const tagged = b.typeTag("user", u64);
  const restricted = b.restrict(b.ptr(ch));
  const flow = b.struct("flow", 24, [
    ["src", u32t, 0],
    ["dport", u16, 32],
    ["proto", u32, 48, 8], // bitfield: 8 bits at bit 48
    ["flags", u32, 56, 3],
    ["cookie", tagged, 64],
    ["name", restricted, 128],
  ]);
  const flowPtr = b.ptr(flow);
  const ctx = b.union("ctx_u", 8, [
    ["flow", flowPtr, 0],
    ["raw", u64, 0],
  ]);
  const pp = b.ptr(b.ptr(flow)); // pointer to pointer
  const matrix = b.array(b.array(s32, 3, u32), 2, u32);
  const anonTypedef = b.typedef(
    "pair_t",
    b.struct("", 8, [
      ["a", u32, 0],
      ["b", s32, 32],
    ]),
  );
  const outer = b.struct("outer", 80, [
    ["f", flow, 0],
    ["u", ctx, 192],
    ["pp", pp, 256],
    ["m", matrix, 320],
    ["v", b.volatile(flowPtr), 512],
    ["p", anonTypedef, 576],
  ]);
  b.typedef("outer_t", b.konst(outer));
  b.enumeration(
    "signed_e",
    [
      ["NEG", -2],
      ["POS", 7],
    ],
    true,
  );
  b.enumeration("unsigned_e", [["BIG", 0xfffffffe]]);
  b.enum64("e64", [
    ["TOP", 0xffff_ffff_ffff_fff0n],
    ["SMALL", 3n],
  ]);
  b.enum64("e64s", [["MINUS_ONE", -1n]], true);
  b.float("double", 8);
  return {
    btf: Btf.fromBytes(b.build()),
    ids: { u32, u64, fwd, flow, flowPtr, ctx, outer, matrix, __u32, u32t },
  };
}

test("typedef chains through const and volatile resolve for sizeof and typeof", () => {
  const { btf, ids } = build();
  assert.equal(btf.sizeof("u32_t"), 4);
  assert.equal(btf.sizeof("__u32"), 4);
  assert.equal(btf.typeof("flow", "src"), "u32_t", "typeof keeps the member's typedef name");
  assert.equal(btf.resolve(ids.u32t), ids.u32);
  assert.equal(btf.skipQualifiers(ids.u32t), ids.u32t, "typedefs are kept by skipQualifiers");
  assert.equal(btf.kind(btf.sizeOrType(ids.__u32)), BTF_KIND_CONST);
  assert.equal(btf.kind(btf.sizeOrType(btf.sizeOrType(ids.__u32))), BTF_KIND_VOLATILE);
  assert.equal(btf.typeof("flow", "cookie"), "long long unsigned int", "type_tag is looked through");
  assert.equal(btf.sizeof("outer_t"), 80, "typedef to const struct");
  assert.equal(btf.sizeof("double"), 8);
});

test("struct and union prefixes, forward declarations, typedef to a struct", () => {
  const { btf, ids } = build();
  assert.equal(btf.sizeof("struct flow"), 24);
  assert.equal(btf.sizeof("flow"), 24, "the forward declaration (size 0) is skipped");
  assert.equal(btf.findStruct("flow"), ids.flow);
  assert.equal(btf.findStruct("union ctx_u"), ids.ctx);
  assert.equal(btf.kind(btf.findStruct("ctx_u")), BTF_KIND_UNION);
  assert.equal(btf.findStruct("outer_t"), ids.outer, "a typedef to a (const) struct counts");
  assert.equal(btf.offsetof("outer_t", "u"), 24);
  assert.equal(btf.kind(ids.fwd), BTF_KIND_FWD);
  assert.throws(
    () => btf.findStruct("struct ctx_u"),
    /no struct or union named "ctx_u"/,
    "union is not a struct",
  );
  assert.throws(() => btf.sizeof("union flow"), BtfError);
});

test("pointers: typeof says uintptr_t, sizeof 8, pointee and qualifiers on the way", () => {
  const { btf, ids } = build();
  for (const m of ["pp", "v"]) assert.equal(btf.typeof("outer", m), "uintptr_t", m);
  assert.equal(btf.typeof("flow", "name"), "uintptr_t", "restrict char *");
  assert.equal(btf.typeof("ctx_u", "flow"), "uintptr_t");
  assert.equal(btf.sizeof("struct flow *"), 8);
  assert.equal(btf.kind(ids.flowPtr), BTF_KIND_PTR);
  assert.equal(btf.pointee(ids.flowPtr), ids.flow);
  const v = btf.member(ids.outer, "v")!;
  assert.equal(btf.pointee(btf.resolve(v.type)), ids.flow);
  assert.equal(btf.size(v.type), 8);
  assert.throws(() => btf.pointee(ids.flow), /not a pointer/);
});

test("bitfields: members() reports bit offset and size; offsetof refuses them", () => {
  const { btf, ids } = build();
  const ms = btf.members(ids.flow);
  assert.deepEqual(
    ms.map((m) => [m.name, m.bitOffset, m.bitSize]),
    [
      ["src", 0, 0],
      ["dport", 32, 0],
      ["proto", 48, 8],
      ["flags", 56, 3],
      ["cookie", 64, 0],
      ["name", 128, 0],
    ],
  );
  assert.equal(btf.kindFlag(ids.flow), true);
  assert.equal(btf.offsetof("flow", "dport"), 4);
  assert.equal(btf.offsetof("flow", "cookie"), 8, "non-bitfield members of a kind_flag struct");
  assert.throws(() => btf.offsetof("flow", "proto"), /flow\.proto is a bitfield \(bit 48, 8 bits\)/);
  assert.equal(btf.member(ids.flow, "flags")!.bitSize, 3);
});

test("arrays: element, count, nested sizes and names", () => {
  const { btf, ids } = build();
  const a = btf.array(ids.matrix);
  assert.equal(a.count, 2);
  assert.equal(btf.kind(a.type), BTF_KIND_ARRAY);
  assert.equal(btf.array(a.type).count, 3);
  assert.equal(btf.size(ids.matrix), 24);
  assert.equal(btf.typeof("outer", "m"), "int[3][2]");
  assert.equal(btf.sizeof("int[3]"), 12);
  assert.throws(() => btf.array(ids.flow), /not an array/);
});

test("dotted member paths walk named members; anonymous ones are looked through", () => {
  const { btf } = build();
  assert.equal(btf.offsetof("outer", "f.dport"), 4);
  assert.equal(btf.offsetof("outer", "u.raw"), 24);
  assert.equal(btf.offsetof("outer", "p.b"), 76, "member of an anonymous struct behind a typedef");
  assert.equal(btf.typeof("outer", "f.src"), "u32_t");
  assert.throws(() => btf.offsetof("outer", "f.nope"), /struct flow has no member "nope"/);
  assert.throws(() => btf.offsetof("outer", "pp.x"), /pp in struct outer is not a struct or union/);
});

test("enums: signed, unsigned, enum64 and signed enum64 values", () => {
  const { btf } = build();
  assert.deepEqual(
    [...btf.enumValues("signed_e")],
    [
      ["NEG", -2n],
      ["POS", 7n],
    ],
  );
  assert.equal(btf.enumValues("enum unsigned_e").get("BIG"), 0xfffffffen);
  assert.equal(btf.enumValues("e64").get("TOP"), 0xffff_ffff_ffff_fff0n);
  assert.equal(btf.enumValues("e64").get("SMALL"), 3n);
  assert.equal(btf.enumValues("e64s").get("MINUS_ONE"), -1n);
  assert.throws(() => btf.enumValues("flow"), /no enum named "flow"/);
});

test("kind, name and idsNamed on ids; errors name what was asked", () => {
  const { btf, ids } = build();
  assert.equal(btf.kind(ids.flow), BTF_KIND_STRUCT);
  assert.equal(btf.kind(ids.u32t), BTF_KIND_TYPEDEF);
  assert.equal(btf.name(ids.flow), "flow");
  assert.equal(btf.name(ids.flowPtr), "");
  assert.equal(btf.name(0), "void");
  assert.deepEqual(btf.idsNamed("flow"), [ids.fwd, ids.flow]);
  assert.deepEqual(btf.idsNamed("nothing"), []);
  assert.deepEqual(btf.idsNamed("unsigned"), [], "a prefix of a name is not the name");
  assert.throws(() => btf.kind(btf.typeCount + 1), /no type id/);
  assert.throws(
    () => btf.offsetof("flo", "src"),
    (e: Error) =>
      e instanceof BtfError &&
      e.name === "BtfError" &&
      e.message === 'BTF has no struct or union named "flo"',
  );
  assert.throws(() => btf.typeof("flow", "srcc"), /^BtfError: struct flow has no member "srcc"$/);
  assert.throws(() => btf.sizeof("struct nope"), /no type named "nope"/);
});

test("bitfields without kind_flag: the int's encoding gives their bits, as older encoders wrote them", () => {
  const b = new BtfBuilder();
  const u8 = b.int("unsigned char", 1);
  const u32 = b.int("unsigned int", 4);
  const bits3 = b.intBits("unsigned int", 4, 3, 0); // unsigned int x:3
  const shifted = b.intBits("unsigned int", 4, 5, 2); // 5 bits, 2 into the int
  const hdr = b.struct("old_hdr", 8, [
    ["kind", u8, 0],
    ["x", bits3, 8],
    ["y", b.typedef("shifted_t", shifted), 8],
    ["len", u32, 32],
  ]);
  const btf = Btf.fromBytes(b.build());
  assert.equal(btf.kindFlag(hdr), false);
  assert.deepEqual(
    btf.members(hdr).map((m) => [m.name, m.bitOffset, m.bitSize]),
    [
      ["kind", 0, 0],
      ["x", 8, 3],
      ["y", 10, 5],
      ["len", 32, 0],
    ],
  );
  assert.equal(btf.offsetof("old_hdr", "kind"), 0);
  assert.equal(btf.offsetof("old_hdr", "len"), 4);
  // Byte-aligned, yet a bitfield: still no byte offset.
  assert.throws(() => btf.offsetof("old_hdr", "x"), /old_hdr\.x is a bitfield \(bit 8, 3 bits\)/);
  assert.equal(btf.member(btf.findStruct("old_hdr"), "y")?.absBitOffset, 10);
});
