import assert from "node:assert/strict";
import { test } from "node:test";
import { type Insn, op } from "../../src/asm/index.js";
import { buildMainProgram, type MainProgramSpec } from "../../src/program/main-program.js";
import { placeReads } from "../../src/program/probe-read.js";
import type { SelectSpec } from "../../src/program/selection.js";
import { nameWords } from "../../src/program/selectors/device.js";
import { REC_FLAGS, SCRATCH_TRACK_LOOK } from "../../src/program/stack-layout.js";
import { FLAG_FREEING, VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import { Helper } from "../../src/sys/bpf-abi.js";
import { LAYOUT } from "./fixtures.js";

// This kernel's offsets (6.18), any plausible values do.
const TRACK = { mapFd: 11, countFd: 12, lastSeenFd: 13 };
// `udp` for Ethernet: a classic program is enough for the shape of the block.
const UDP = [
  { code: 0x28, jt: 0, jf: 0, k: 12 },
  { code: 0x15, jt: 0, jf: 3, k: 0x800 },
  { code: 0x30, jt: 0, jf: 0, k: 23 },
  { code: 0x15, jt: 0, jf: 1, k: 17 },
  { code: 0x06, jt: 0, jf: 0, k: 262144 },
  { code: 0x06, jt: 0, jf: 0, k: 0 },
];

function spec(select?: SelectSpec, verdict = false): MainProgramSpec {
  return {
    skb: { kind: "args", index: 0 },
    func: { kind: "const", value: 5n },
    isReturn: false,
    ...(verdict ? { verdict: { kind: 1 } } : {}),
    markOffset: 164,
    mark: 0x2a,
    mask: 0xffffffff,
    ringFd: 7,
    lostFd: 8,
    probeRead: 113,
    module: [],
    ...(select ? { select } : {}),
  };
}

const calls = (insns: Insn[]) => insns.filter((i) => i.code === (op.JMP | op.CALL)).map((i) => i.imm);
/** The helper calls made on the map `fd` (the map last loaded into R1 before each call). */
function callsOn(insns: Insn[], fd: number): number[] {
  const out: number[] = [];
  let map = -1;
  for (const i of insns) {
    if (i.code === op.LD_IMM64 && i.src === op.PSEUDO_MAP_FD && i.dst === 1) map = i.imm;
    else if (i.code === (op.JMP | op.CALL)) {
      if (map === fd) out.push(i.imm);
      map = -1;
    }
  }
  return out;
}
const mapFds = (insns: Insn[]) =>
  insns.filter((i) => i.code === op.LD_IMM64 && i.src === op.PSEUDO_MAP_FD).map((i) => i.imm);

test("the mark alone, with or without a select spec, is the same program as before", () => {
  const plain = buildMainProgram(spec()).insns;
  assert.deepEqual(buildMainProgram(spec({ markTest: true })).insns, plain);
  // The mark test: one probe_read, then the compare; nothing else before the record.
  assert.deepEqual(calls(plain).slice(0, 2), [113, Helper.ktime_get_ns]);
});

test("tracking is asked first: a map lookup before any test of the packet", () => {
  const p = buildMainProgram(spec({ markTest: true, layout: LAYOUT, track: TRACK })).insns;
  assert.equal(calls(p)[0], Helper.map_lookup_elem);
  assert.equal(mapFds(p)[0], TRACK.mapFd);
  // A new packet enters the map; an entry comes out when stale, or ended (its address is a new packet's).
  assert.deepEqual(callsOn(p, TRACK.mapFd), [
    Helper.map_lookup_elem,
    Helper.map_delete_elem, // an ended packet's entry, at a point that does not continue it
    Helper.map_delete_elem, // a stale entry
    Helper.map_update_elem, // a new packet
  ]);
  // A stale packet is counted where it was last seen.
  assert.deepEqual(callsOn(p, TRACK.lastSeenFd), [Helper.map_lookup_elem, Helper.map_update_elem]);
});

test("a verdict marks the packet's entry ended instead of taking it out; its free path continues it", () => {
  const isUpdate = (c: number) => c === Helper.map_update_elem;
  const isDelete = (c: number) => c === Helper.map_delete_elem;
  // At a verdict: a tracked packet's entry, or a new one, is written ended (two updates, no insert count).
  const v = buildMainProgram(spec({ markTest: true, layout: LAYOUT, track: TRACK }, true)).insns;
  assert.equal(callsOn(v, TRACK.mapFd).filter(isUpdate).length, 2);
  const ended = v.filter((i) => i.code === (op.ST | op.MEM | op.DW) && i.imm === 0);
  assert.ok(ended.length >= 2, "the ended entry's head and identity words are zeroed");
  // A free-path point keeps an ended entry (the packet continues): only a stale entry is taken out, and
  // its records say where they are.
  const free = buildMainProgram({ ...spec({ markTest: true, layout: LAYOUT, track: TRACK }), freeing: true });
  assert.equal(callsOn(free.insns, TRACK.mapFd).filter(isDelete).length, 1);
  const flags = free.insns.filter((i) => i.code === (op.ST | op.MEM | op.W) && i.off === REC_FLAGS);
  assert.deepEqual(
    flags.map((i) => i.imm),
    [FLAG_FREEING],
  );
  // So does a function's return.
  const ret = buildMainProgram({ ...spec({ markTest: true, layout: LAYOUT, track: TRACK }), isReturn: true });
  assert.equal(callsOn(ret.insns, TRACK.mapFd).filter(isDelete).length, 1);
  // Elsewhere an ended entry is taken out before the selection's tests run.
  const plain = buildMainProgram(spec({ markTest: true, layout: LAYOUT, track: TRACK })).insns;
  assert.equal(callsOn(plain, TRACK.mapFd).filter(isDelete).length, 2);
});

test("a late free (consume_skb from its code) starts no packet; nor do the points where no packet starts", () => {
  const late = { lo: 0xffffffff81e9eee0n, hi: 0xffffffff81e9f000n };
  const consume = (lateFree?: typeof late, kind = VERDICT_CONSUME): MainProgramSpec => ({
    ...spec({ markTest: true, layout: LAYOUT, track: TRACK }),
    verdict: { kind, locationArg: 1 },
    ...(lateFree ? { lateFree } : {}),
  });
  // The 64-bit constants that are kernel addresses (the function's id here is 5).
  const imm64s = (insns: Insn[]) =>
    insns
      .filter((i) => i.code === op.LD_IMM64 && i.src === 0)
      .map((i) => BigInt.asUintN(64, i.imm64!))
      .filter((v) => v >= 0xffff800000000000n);
  // At consume_skb: the location (slot 1) against the code's bounds, before the mark is read; such a
  // packet is counted on the tracking counters, not inserted.
  const p = buildMainProgram(consume(late)).insns;
  assert.deepEqual(imm64s(p), [late.lo, late.hi]);
  const loc = p.findIndex((i) => i.code === (op.LDX | op.MEM | op.DW) && i.src === 6 && i.off === 8);
  const mark = p.findIndex((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.imm === 164);
  assert.ok(loc >= 0 && loc < mark, "the location is tested before the mark");
  assert.ok(mapFds(p).includes(TRACK.countFd));
  // Not at kfree_skb, not without the bounds (kallsyms names neither function), not without a location.
  assert.deepEqual(imm64s(buildMainProgram(consume(late, VERDICT_DROP)).insns), []);
  assert.deepEqual(imm64s(buildMainProgram(consume()).insns), []);
  const noLoc = { ...consume(late), verdict: { kind: VERDICT_CONSUME } };
  assert.deepEqual(imm64s(buildMainProgram(noLoc).insns), []);
  // Where no packet starts: the lookup alone (no test of the mark, no insert); without tracking the tests.
  const handoff = buildMainProgram({
    ...spec({ markTest: true, layout: LAYOUT, track: TRACK }),
    noNewPackets: true,
  }).insns;
  assert.ok(!callsOn(handoff, TRACK.mapFd).includes(Helper.map_update_elem));
  assert.equal(handoff.filter((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.imm === 164).length, 0);
  // Still something must select packets besides the late free's test.
  assert.throws(() => buildMainProgram({ ...consume(late), select: { markTest: false } }), /nothing selects/);
  const untracked = buildMainProgram({ ...spec({ markTest: true }), noNewPackets: true }).insns;
  assert.deepEqual(untracked, buildMainProgram(spec({ markTest: true })).insns);
});

test("without -m there is no mark read; a filter alone copies the packet and runs both variants", () => {
  const p = buildMainProgram(
    spec({ markTest: false, layout: LAYOUT, filter: { expr: "udp", ethernet: UDP, raw: UDP } }),
  );
  const marks = p.insns.filter((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.imm === 164);
  assert.equal(marks.length, 0);
  // The skb fields in one read, then one packet copy per variant.
  assert.deepEqual(calls(p.insns).slice(0, 3), [113, 113, 113]);
  assert.throws(() => buildMainProgram(spec({ markTest: false })), /nothing selects packets/);
});

test("a device name is compared with its NUL, never past it", () => {
  assert.deepEqual(nameWords("lo"), [{ value: 0x6f6cn, mask: 0xffffffn }]);
  const w = nameWords("veth-abcdefgh");
  assert.equal(w.length, 2);
  assert.equal(w[0]!.mask, 0xffffffffffffffffn);
  assert.equal(w[1]!.mask, 0xffffffffffffn); // "fgh" and the NUL
  assert.equal(nameWords("fifteen-chars-x").length, 2);
});

test("skb fields are read in spans of at most 128 bytes, each field aligned on the stack as in the skb", () => {
  const fields = [
    { off: 112, size: 4 as const },
    { off: 200, size: 8 as const },
    { off: 180, size: 2 as const },
    { off: 400, size: 8 as const },
  ];
  const { reads, slot } = placeReads(fields, { start: -384, end: -256 });
  assert.equal(reads.length, 2);
  assert.deepEqual(reads[0], { skbOff: 112, size: 96, at: -384 });
  for (const f of fields) assert.equal(((slot.get(f.off)! % 8) + 8) % 8, f.off % 8);
  assert.throws(() => placeReads(fields, { start: -384, end: -300 }), /do not fit/);
});

test("with the identity, tracking's reads take skb->mark too: in the head's read when near, else one read more", () => {
  const probes = (track: SelectSpec["track"]) =>
    calls(buildMainProgram(spec({ markTest: true, layout: LAYOUT, track })).insns).filter((c) => c === 113)
      .length;
  const plain = probes(TRACK);
  // This kernel's offsets: mark (164) within one read of network_header (180) and head (192); the one read
  // more is the insert's of skb->dev (the device the entry keeps).
  const near = probes({ ...TRACK, identity: { dev: 16, mark: 164 } });
  assert.equal(near, plain + 1);
  // A layout with the mark far from them: one probe read more at the lookup and at the insert.
  assert.equal(probes({ ...TRACK, identity: { dev: 16, mark: 20 } }), near + 2);
  // The look is stored where the identity part finds it (the lookup's slot), and in the entry's value.
  const p = buildMainProgram(
    spec({ markTest: true, layout: LAYOUT, track: { ...TRACK, identity: { dev: 16, mark: 164 } } }),
  ).insns;
  assert.ok(
    p.some((i) => i.code === (op.STX | op.DW | op.MEM) && i.dst === 10 && i.off === SCRATCH_TRACK_LOOK),
  );
  assert.ok(p.some((i) => i.code === (op.ALU64 | op.MUL | op.K)));
});
