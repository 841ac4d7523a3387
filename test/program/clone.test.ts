// The clone programs (program/clone.ts): the return program follows the returned skb only when the parent
// is tracked, puts it in the tracking map and flags the record; the kprobe backends' entry program saves
// a tracked parent by pid_tgid. Checked on the instructions and their listing (what --gen program shows).
import assert from "node:assert/strict";
import { test } from "node:test";
import { encode, type Insn, op } from "../../src/asm/index.js";
import { FtraceBackend } from "../../src/backends/ftrace.js";
import { KprobeBackend } from "../../src/backends/kprobe.js";
import { KprobeMultiBackend } from "../../src/backends/kprobe-multi.js";
import type { AttachPoint } from "../../src/plan/attach-points.js";
import { CLONE_FUNCTIONS, clonePoints } from "../../src/plan/clone-points.js";
import { buildCloneEntryProgram } from "../../src/program/clone.js";
import { buildMainProgram, type MainProgramSpec } from "../../src/program/main-program.js";
import type { SelectSpec } from "../../src/program/selection.js";
import { REC_FLAGS, REC_LOCATION, SCRATCH_CLONE_PARENT } from "../../src/program/stack-layout.js";
import { FLAG_CLONE, FLAG_RETURN } from "../../src/record/record.js";
import { listProgram } from "../../src/session/load.js";
import { Helper } from "../../src/sys/bpf-abi.js";
import { checkListedJumps } from "../asm/listing.js";
import { LAYOUT, mainSpec } from "./fixtures.js";

const TRACK = { mapFd: 11, countFd: 12, lastSeenFd: 13 };
const SAVED = 13;
const SELECT: SelectSpec = { markTest: true, layout: LAYOUT, track: TRACK };

const spec = (over: Partial<MainProgramSpec>) =>
  mainSpec({ skb: { kind: "args", index: 2 }, select: SELECT, ...over });

const calls = (insns: Insn[]) => insns.filter((i) => i.code === (op.JMP | op.CALL)).map((i) => i.imm);
const mapFds = (insns: Insn[]) =>
  insns.filter((i) => i.code === op.LD_IMM64 && i.src === op.PSEUDO_MAP_FD).map((i) => i.imm);
// BPF_ST and BPF_STX to R10+off.
const stores = (insns: Insn[], off: number) =>
  insns.filter((i) => i.off === off && i.dst === 10 && ((i.code & 0x07) === 2 || (i.code & 0x07) === 3));
const markRead = (insns: Insn[]) => insns.some((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.imm === 164);

test("fexit: the parent (args[0]) is looked up, the returned skb (args[nargs]) enters the map; no mark test", () => {
  const p = buildMainProgram(spec({ clone: { parent: { kind: "args", index: 0 } } })).insns;
  assert.ok(!markRead(p), "a clone is followed for its parent, never tested for the mark");
  // The returned skb from its slot, the parent from slot 0.
  assert.equal(p[1]!.code, op.LDX | op.MEM | op.DW);
  assert.equal(p[1]!.off, 16);
  assert.ok(p.some((i) => i.code === (op.LDX | op.MEM | op.DW) && i.src === 6 && i.off === 0));
  // Lookup of the parent, then the clone's insert: the tracking map twice, before the record.
  const c = calls(p);
  assert.equal(c[0], Helper.map_lookup_elem, "the parent's lookup comes first");
  assert.ok(c.indexOf(Helper.map_lookup_elem) < c.indexOf(Helper.map_update_elem));
  assert.equal(mapFds(p).filter((fd) => fd === TRACK.mapFd).length >= 3, true);
  // The record: the clone flag (never the return flag), and the parent at the location field.
  const flags = stores(p, REC_FLAGS);
  assert.deepEqual(
    flags.map((i) => i.imm),
    [FLAG_CLONE],
  );
  assert.ok(!flags.some((i) => i.imm & FLAG_RETURN));
  // (the record's zeroing stores 0 there first: BPF_ST; the parent is a register store, BPF_STX)
  const stx = (off: number) => stores(p, off).filter((i) => (i.code & 0x07) === 3);
  assert.equal(stx(REC_LOCATION).length, 1);
  assert.equal(stx(SCRATCH_CLONE_PARENT).length, 1);
  checkListedJumps(listProgram({ insns: p, moduleStart: p.length, moduleEnd: p.length }), (why) =>
    assert.fail(why),
  );
  encode(p);
});

test("kretprobe: the parent comes from the saved map by pid_tgid, taken out before the NULL check", () => {
  const p = buildMainProgram(
    spec({ skb: { kind: "pt_regs", offset: 80 }, clone: { parent: { kind: "saved", mapFd: SAVED } } }),
  ).insns;
  const c = calls(p);
  assert.deepEqual(c.slice(0, 3), [
    Helper.get_current_pid_tgid,
    Helper.map_lookup_elem,
    Helper.map_delete_elem,
  ]);
  assert.deepEqual(mapFds(p).slice(0, 2), [SAVED, SAVED]);
  // The returned skb is pt_regs ax.
  assert.equal(p[1]!.off, 80);
  // The delete comes before the returned skb is tested for NULL (a failed clone still clears the entry).
  const del = p.findIndex((i) => i.code === (op.JMP | op.CALL) && i.imm === Helper.map_delete_elem);
  const nullTest = p.findIndex((i) => i.code === (op.JMP | op.JEQ | op.K) && i.dst === 7 && i.imm === 0);
  assert.ok(del < nullTest, `${del} < ${nullTest}`);
  assert.ok(calls(p).includes(Helper.map_update_elem));
  assert.equal(stores(p, REC_FLAGS)[0]!.imm, FLAG_CLONE);
  encode(p);
});

test("the entry program: a tracked parent is saved, an untracked one forgets this task's entry", () => {
  const p = buildCloneEntryProgram({ select: SELECT, probeRead: 113, savedFd: SAVED, parentOffset: 112 });
  assert.equal(p[1]!.off, 112, "the parent is the first argument (pt_regs di)");
  const c = calls(p);
  assert.equal(c[0], Helper.get_current_pid_tgid);
  assert.equal(c[1], Helper.map_lookup_elem);
  assert.ok(c.includes(Helper.map_update_elem));
  // The saved map: updated (tracked) or deleted from (untracked); the tracking map only read (and a stale
  // entry's delete).
  assert.deepEqual([...new Set(mapFds(p))].sort(), [TRACK.mapFd, TRACK.countFd, SAVED].sort());
  const lines = listProgram({ insns: p, moduleStart: p.length, moduleEnd: p.length });
  checkListedJumps(lines, (why) => assert.fail(why));
  assert.ok(lines.at(-1)!.endsWith("exit"), lines.at(-1));
  encode(p);
});

const point = (name: string, over: Partial<AttachPoint> = {}): AttachPoint => ({
  name,
  module: "vmlinux",
  kind: "function",
  skbPos: 1,
  nargs: 2,
  btfId: 100,
  ...over,
});

test("the clone functions: those this kernel has as functions; the rest skipped with why", () => {
  const pts = [
    point("skb_clone"),
    point("skb_copy"),
    point("skb_copy_expand", { nargs: 4 }),
    point("ip_rcv"),
  ];
  const r = clonePoints(pts, "ftrace", (p) => (p.name === "skb_copy" ? "not-traceable" : undefined));
  assert.deepEqual(
    r.points.map((p) => p.name),
    ["skb_clone", "skb_copy_expand"],
  );
  assert.deepEqual(
    r.skipped.map((s) => s.name),
    ["skb_copy", "__pskb_copy_fclone"],
  );
  assert.match(r.skipped[1]!.why, /not a function of this kernel/);
  assert.equal(CLONE_FUNCTIONS.length, 4);
});

test("units per backend: fexit reads the return slot after the arguments; the kprobes read ax", () => {
  const pts = [point("skb_clone"), point("skb_copy_expand", { nargs: 4 })];
  const ids = (p: AttachPoint) => (p.name === "skb_clone" ? 1n : 2n);
  const fexit = new FtraceBackend(() => undefined).clones.units(pts, -1, ids);
  assert.deepEqual(
    fexit.map((u) => u.skb),
    [
      { kind: "args", index: 2 },
      { kind: "args", index: 4 },
    ],
  );
  assert.ok(fexit.every((u) => u.clone?.parent.kind === "args" && !u.isReturn));
  const kret = new KprobeBackend(undefined, false).clones.units(pts, SAVED, ids);
  assert.equal(kret.length, 2);
  assert.deepEqual(kret[0]!.skb, { kind: "pt_regs", offset: 80 });
  assert.deepEqual(kret[0]!.clone, { parent: { kind: "saved", mapFd: SAVED } });
  const multi = new KprobeMultiBackend().clones.units(pts, SAVED, ids);
  assert.equal(multi.length, 1);
  assert.equal(multi[0]!.points.length, 2);
  assert.deepEqual(multi[0]!.func, { kind: "get_func_ip" });
});
