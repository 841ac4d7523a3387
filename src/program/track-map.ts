// The tracking map in the kernel: a packet selected once is found again at every later point by its skb
// address, with its track id. At a verdict tracepoint (kfree_skb, consume_skb) its entry is marked ended
// (its head word set to 0): the points that run after a verdict (a function's return, the skb's free path)
// continue the packet under its id; any other point that finds an ended entry takes it out, the address
// being a new packet's by then. The user side of the map is session/track-table.ts.
//
// Registers: R6 = ctx and R7 = skb throughout; R8 = the track id once found or made; R9 and R0 hold the
// fingerprint (program/track-fingerprint.ts) between its read and its check.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R7, R8, R9, R10 } from "../asm/opcodes.js";
import { Helper } from "../sys/bpf-abi.js";
import { emitFunc, type FuncSource } from "./func-source.js";
import { BPF_NOEXIST, countPerCpu, mapDelete, mapLookup, mapUpdate } from "./map-call.js";
import type { PacketLayout } from "./skb-layout.js";
import {
  REC_TRACK,
  SCRATCH_KEY,
  SCRATCH_LAST_SEEN_KEY,
  SCRATCH_LAST_SEEN_ONE,
  SCRATCH_TRACK_ENTRY,
  SCRATCH_TRACK_FIRST,
  SCRATCH_TRACK_KEY,
  SCRATCH_TRACK_LOOK,
  SCRATCH_TRACK_VALUE,
} from "./stack-layout.js";
import { type LookSpec, trackFingerprint } from "./track-fingerprint.js";

export interface TrackSpec {
  /** The LRU hash: skb address (u64) -> track id and fingerprint (TRACK_VALUE_SIZE bytes). */
  mapFd: number;
  /** Per-CPU array of u64 counters: [TRACK_INSERTED], [TRACK_ENDED], [TRACK_STALE], [TRACK_LATE_FREED]. */
  countFd: number;
  /** Hash: function address (u64) -> packets last seen there whose entry was found stale (they ended
   * where no verdict tracepoint saw them), u64. */
  lastSeenFd: number;
  /** With the identity part: offsetof(struct sk_buff, dev) and (mark). The entry keeps the device the
   * packet's identity was last read on (from its insert on) and its look then (program/track-fingerprint.ts:
   * its addresses, ports and mark); each lookup leaves this point's look at SCRATCH_TRACK_LOOK. The
   * identity part compares them (parts/identity.ts). */
  identity?: { dev: number; mark: number };
}

export const TRACK_INSERTED = 0;
/** Entries that reached their packet's verdict (marked ended). */
export const TRACK_ENDED = 1;
/** Entries found to belong to an earlier packet at the same address, and taken out. */
export const TRACK_STALE = 2;
/** Packets not started at their late free (plan/late-free.ts): delivered before tracing began. */
export const TRACK_LATE_FREED = 3;
export const TRACK_COUNTERS = 4;

/** The tracking map's value: the track id, then the packet's fingerprint (see trackFingerprint): skb->head
 * (0 once the packet reached its verdict) and the packet's identity from its headers; then the function (or
 * tracepoint id) the packet was last seen at; then the device (skb->dev) its identity part was last taken
 * on (0: none, or identity off) and its look then (0 with identity off). */
export const TRACK_VALUE_SIZE = 48;
/** Where the value holds skb->head (0: ended). */
export const TRACK_VALUE_HEAD = 8;
/** Where the value holds the packet's identity (see trackFingerprint). */
export const TRACK_VALUE_IDENT = 16;
/** Where the value holds the last function. */
export const TRACK_VALUE_FUNC = 24;
/** Where the value holds the device of the last identity part. */
export const TRACK_VALUE_DEV = 32;
/** Where the value holds the look of the last identity part. */
export const TRACK_VALUE_LOOK = 40;

const TV_ID = SCRATCH_TRACK_VALUE;
const TV_HEAD = SCRATCH_TRACK_VALUE + TRACK_VALUE_HEAD;
const TV_IDENT = SCRATCH_TRACK_VALUE + TRACK_VALUE_IDENT;
const TV_FUNC = SCRATCH_TRACK_VALUE + TRACK_VALUE_FUNC;
const TV_DEV = SCRATCH_TRACK_VALUE + TRACK_VALUE_DEV;
const TV_LOOK = SCRATCH_TRACK_VALUE + TRACK_VALUE_LOOK;

/** A tracked packet with the same fingerprint: R8 = its id, on to sel_done (at a verdict, its entry is
 * marked ended). A stale entry is taken out; so is an ended one, except where the packet continues. */
export function trackLookup(
  t: TrackSpec,
  l: PacketLayout,
  probeRead: number,
  isVerdict: boolean,
  afterVerdict: boolean,
  func?: FuncSource,
): Insn[] {
  const p: Insn[] = [
    asm.stxMem(asm.DW, R10, R7, SCRATCH_TRACK_KEY),
    ...mapLookup(t.mapFd, SCRATCH_TRACK_KEY),
    asm.jmpImm(asm.JEQ, R0, 0, "sel_untracked"),
    // Not the packet's first event (an insert after this writes 1).
    asm.stMem(asm.DW, R10, SCRATCH_TRACK_FIRST, 0),
    asm.stxMem(asm.DW, R10, R0, SCRATCH_TRACK_ENTRY),
    // The entry, copied: the map's value may change under us, and calls follow.
    asm.ldxMem(asm.DW, R1, R0, 0),
    asm.stxMem(asm.DW, R10, R1, TV_ID),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_IDENT),
    asm.stxMem(asm.DW, R10, R1, TV_IDENT),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_DEV),
    asm.stxMem(asm.DW, R10, R1, TV_DEV),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_LOOK),
    asm.stxMem(asm.DW, R10, R1, TV_LOOK),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_HEAD),
    asm.stxMem(asm.DW, R10, R1, TV_HEAD),
    asm.jmpImm(asm.JNE, R1, 0, "sel_live"),
  ];
  // An ended packet: its free path (or a return) continues it; elsewhere the address is a new packet's.
  // Its look is not read again there: the entry's stands (the identity part sees no rewrite).
  if (afterVerdict)
    p.push(
      ...(t.identity
        ? [asm.ldxMem(asm.DW, R1, R10, TV_LOOK), asm.stxMem(asm.DW, R10, R1, SCRATCH_TRACK_LOOK)]
        : []),
      asm.ldxMem(asm.DW, R8, R10, TV_ID),
      asm.ja("sel_done"),
    );
  else p.push(...trackDelete(t.mapFd), asm.ja("sel_untracked"));
  p.push(
    asm.label("sel_live", asm.mov64Reg(R0, R0)),
    ...trackFingerprint(l, probeRead, "sel_untracked", "sel_fpl_", look(t, SCRATCH_TRACK_LOOK)),
    ...sameFingerprint("sel_stale"),
    asm.ldxMem(asm.DW, R8, R10, TV_ID),
  );
  if (isVerdict) p.push(...markEnded(t.mapFd), ...count(t.countFd, TRACK_ENDED, "sel_done"));
  else if (func) {
    // Where the packet was seen last: in the entry itself (one store; no update call).
    p.push(
      ...emitFunc(func, R0),
      asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY),
      asm.stxMem(asm.DW, R1, R0, TRACK_VALUE_FUNC),
    );
  }
  p.push(
    asm.ja("sel_done"),
    // An earlier packet's entry, freed where no verdict was seen: counted where it was last seen.
    asm.label("sel_stale", asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY)),
    asm.ldxMem(asm.DW, R1, R1, TRACK_VALUE_FUNC),
    asm.stxMem(asm.DW, R10, R1, SCRATCH_LAST_SEEN_KEY),
    ...countLastSeen(t.lastSeenFd),
    ...trackDelete(t.mapFd),
    asm.jmpImm(asm.JNE, R0, 0, "sel_untracked"),
    ...count(t.countFd, TRACK_STALE, "sel_untracked"),
  );
  return p;
}

/** With the entry copied at TV_* and this point's fingerprint in R9 (head) and R0 (identity): on when it
 * is the entry's packet, else to `stale`. An entry with an identity meets a packet with none (no IP
 * header: a vsock or ARP packet the kernel put at a freed packet's address, on data reallocated at the
 * same place): another packet, since a packet keeps its IP header once it has one. Two identities must
 * be equal. Then the same head is the same packet; a new head is its data reallocated, when the identity
 * tells packets apart (its high half): the entry follows the new head. Without an identity in the entry,
 * the head decides (and an entry made before its packet had an IP header takes the identity it has now). */
function sameFingerprint(stale: string): Insn[] {
  return [
    asm.ldxMem(asm.DW, R1, R10, TV_IDENT),
    asm.jmpImm(asm.JEQ, R1, 0, "sel_fp_head"),
    asm.jmpImm(asm.JEQ, R0, 0, stale),
    asm.jmpReg(asm.JNE, R1, R0, stale),
    asm.ldxMem(asm.DW, R1, R10, TV_HEAD),
    asm.jmpReg(asm.JEQ, R1, R9, "sel_fp_same"),
    asm.alu64Imm(asm.RSH, R0, 32),
    asm.jmpImm(asm.JEQ, R0, 0, stale),
    asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY),
    asm.stxMem(asm.DW, R1, R9, TRACK_VALUE_HEAD),
    asm.ja("sel_fp_same"),
    // The entry has no identity: the head decides, and the entry takes this point's identity.
    asm.label("sel_fp_head", asm.ldxMem(asm.DW, R1, R10, TV_HEAD)),
    asm.jmpReg(asm.JNE, R1, R9, stale),
    asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY),
    asm.stxMem(asm.DW, R1, R0, TRACK_VALUE_IDENT),
    asm.label("sel_fp_same", asm.mov64Reg(R0, R0)),
  ];
}

/** A newly selected packet: its track id is now; it enters the map, as ended at a verdict (so that its
 * free path, which follows, continues it). */
export function trackInsert(
  t: TrackSpec,
  l: PacketLayout,
  probeRead: number,
  isVerdict: boolean,
  func: FuncSource,
): Insn[] {
  const p: Insn[] = [
    asm.stMem(asm.DW, R10, SCRATCH_TRACK_FIRST, 1),
    asm.call(Helper.ktime_get_ns),
    asm.mov64Reg(R8, R0),
  ];
  p.push(...insertDev(t, probeRead));
  if (isVerdict) {
    p.push(
      asm.stxMem(asm.DW, R10, R8, TV_ID),
      ...markEnded(t.mapFd),
      asm.jmpImm(asm.JNE, R0, 0, "sel_done"),
      ...count(t.countFd, TRACK_INSERTED, "sel_done"),
      ...count(t.countFd, TRACK_ENDED, "sel_done"),
    );
  } else {
    p.push(
      ...trackFingerprint(l, probeRead, "sel_done", "sel_fpi_", look(t, TV_LOOK)),
      asm.stxMem(asm.DW, R10, R8, TV_ID),
      asm.stxMem(asm.DW, R10, R9, TV_HEAD),
      asm.stxMem(asm.DW, R10, R0, TV_IDENT),
      ...emitFunc(func, R0),
      asm.stxMem(asm.DW, R10, R0, TV_FUNC),
      ...trackUpdate(t.mapFd),
      asm.jmpImm(asm.JNE, R0, 0, "sel_done"),
      ...count(t.countFd, TRACK_INSERTED, "sel_done"),
    );
  }
  p.push(asm.label("sel_done", asm.mov64Reg(R0, R0)));
  return p;
}

/** With the identity part: where the fingerprint's reads leave the packet's look. */
const look = (t: TrackSpec, at: number): LookSpec | undefined =>
  t.identity ? { mark: t.identity.mark, at } : undefined;

/** TV_DEV: the device the packet's first identity part is taken on (skb->dev), with identity on; else 0.
 * Uses R1-R3 and R0. */
function insertDev(t: TrackSpec, probeRead: number): Insn[] {
  // The look: 0 until the fingerprint's reads give it (none at a verdict, where nothing follows to compare).
  if (t.identity === undefined)
    return [asm.stMem(asm.DW, R10, TV_DEV, 0), asm.stMem(asm.DW, R10, TV_LOOK, 0)];
  return [
    asm.stMem(asm.DW, R10, TV_LOOK, 0),
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, TV_DEV),
    asm.mov64Imm(R2, 8),
    asm.mov64Reg(R3, R7),
    asm.alu64Imm(asm.ADD, R3, t.identity.dev),
    asm.call(probeRead),
    asm.jmpImm(asm.JEQ, R0, 0, "sel_dev_read"),
    asm.stMem(asm.DW, R10, TV_DEV, 0),
    asm.label("sel_dev_read", asm.mov64Reg(R0, R0)),
  ];
}

/** The entry at the key becomes {TV_ID, ended} (keeping TV_DEV and TV_LOOK). */
function markEnded(mapFd: number): Insn[] {
  return [
    asm.stMem(asm.DW, R10, TV_HEAD, 0),
    asm.stMem(asm.DW, R10, TV_IDENT, 0),
    asm.stMem(asm.DW, R10, TV_FUNC, 0),
    ...trackUpdate(mapFd),
  ];
}

const trackUpdate = (fd: number) => mapUpdate(fd, SCRATCH_TRACK_KEY, SCRATCH_TRACK_VALUE);
const trackDelete = (fd: number) => mapDelete(fd, SCRATCH_TRACK_KEY);

/** lastSeen[SCRATCH_LAST_SEEN_KEY] += 1 (a new key starts at 1; a full map loses the count). */
function countLastSeen(fd: number): Insn[] {
  return [
    ...mapLookup(fd, SCRATCH_LAST_SEEN_KEY),
    asm.jmpImm(asm.JEQ, R0, 0, "sel_ls_new"),
    asm.mov64Imm(R1, 1),
    asm.atomicAdd(asm.DW, R0, R1, 0),
    asm.ja("sel_ls_done"),
    asm.label("sel_ls_new", asm.stMem(asm.DW, R10, SCRATCH_LAST_SEEN_ONE, 1)),
    // Another CPU's first count may win the race: this one is then lost.
    ...mapUpdate(fd, SCRATCH_LAST_SEEN_KEY, SCRATCH_LAST_SEEN_ONE, BPF_NOEXIST),
    asm.label("sel_ls_done", asm.mov64Reg(R0, R0)),
  ];
}

/** After the record is zeroed: its track id. Keeps R6-R9. */
export function emitTrackRecord(t: TrackSpec | undefined): Insn[] {
  return t ? [asm.stxMem(asm.DW, R10, R8, REC_TRACK)] : [];
}

/** counters[idx] += 1 on this CPU. */
const count = (fd: number, idx: number, done: string): Insn[] => countPerCpu(fd, SCRATCH_KEY, idx, done);
