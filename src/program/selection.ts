// Which packets the main program traces: the selection, emitted between the skb's NULL check and the
// record. Each test that is asked for must pass (they are ANDed), cheapest first:
//   tracked?   a packet already selected at an earlier point (the tracking map, keyed by skb address)
//              skips every test below: it stays traced after its mark is cleared or its headers change;
//   mark       (skb->mark & mask) == mark;
//   device     skb->dev->ifindex, skb->dev->name (the whole NUL-terminated name); at a tracepoint that
//              passes the device as an argument (net_dev_xmit), that device (plan/device-args.ts);
//   netns      the namespace's inode number (ns.inum) of skb->dev's network namespace, or of skb->sk's
//              when the skb has no device yet (a locally generated packet above the IP output);
//   filter     a pcap filter (src/filter) over a copy of the packet's linear part: from its link-layer
//              header where the kernel has set one that is at least an Ethernet header long, else from
//              its network header (raw IP), each with its own compiled program.
// A selected packet enters the tracking map (value: its first-seen time, the track id the record
// carries). At a verdict tracepoint (kfree_skb, consume_skb) its entry is marked ended (its head word
// set to 0): the points that run after a verdict (a function's return, the skb's free path) continue the
// packet under its id; any other point that finds an ended entry takes it out, the address being a new
// packet's by then.
//
// Registers: R6 = ctx and R7 = skb on entry and exit; on exit R8 = the track id (0 without tracking).
// Stack: until the record is zeroed, the record's place holds what is read from the skb, and the
// module's stack holds the packet copy; the reserved area holds the filter's M[] and the map's key/value.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 } from "../asm/opcodes.js";
import { ALIGN_SHIFT, type CbpfInsn, copyPacket, emitFilter } from "../filter/index.js";
import { Helper } from "../sys/bpf-abi.js";
import type { DeviceLayout } from "./extras.js";
import { emitFunc, type FuncSource } from "./func-source.js";
import { BPF_NOEXIST, mapDelete, mapLookup, mapUpdate } from "./map-call.js";
import {
  MODULE_STACK,
  REC_TRACK,
  SCRATCH_FILTER_M,
  SCRATCH_KEY,
  SCRATCH_LAST_SEEN_KEY,
  SCRATCH_LAST_SEEN_ONE,
  SCRATCH_MARK,
  SCRATCH_TRACK_ENTRY,
  SCRATCH_TRACK_KEY,
  SCRATCH_TRACK_VALUE,
  SELECT_READS,
} from "./stack-layout.js";

/** Offsets (bytes) from BTF that the selection reads through: the device's and namespaces' (DeviceLayout,
 * shared with the record's device part), and struct sk_buff's len (u32), data and head (pointers), tail
 * (u32 offset), mac_header and network_header (u16 offsets from head). */
export interface SkbLayout extends DeviceLayout {
  len: number;
  data: number;
  head: number;
  tail: number;
  macHeader: number;
  networkHeader: number;
}

export interface PcapSelection {
  /** Compiled for an Ethernet header, and for raw IP (absent: the filter needs a link-layer header). */
  ethernet: CbpfInsn[];
  raw?: CbpfInsn[];
}

export interface TrackSpec {
  /** The LRU hash: skb address (u64) -> track id and fingerprint (TRACK_VALUE_SIZE bytes). */
  mapFd: number;
  /** Per-CPU array of u64 counters: [TRACK_INSERTED], [TRACK_ENDED], [TRACK_STALE]. */
  countFd: number;
  /** Hash: function address (u64) -> packets last seen there whose entry was found stale (they ended
   * where no verdict tracepoint saw them), u64. */
  lastSeenFd: number;
}

export const TRACK_INSERTED = 0;
/** Entries that reached their packet's verdict (marked ended). */
export const TRACK_ENDED = 1;
/** Entries found to belong to an earlier packet at the same address, and taken out. */
export const TRACK_STALE = 2;
export const TRACK_COUNTERS = 3;

/** The tracking map's value: the track id, then the packet's fingerprint (see trackFingerprint): skb->head
 * (0 once the packet reached its verdict) and the packet's identity from its headers; then the function (or
 * tracepoint id) the packet was last seen at. */
export const TRACK_VALUE_SIZE = 32;
/** Where the value holds skb->head (0: ended). */
export const TRACK_VALUE_HEAD = 8;
/** Where the value holds the packet's identity (see trackFingerprint). */
export const TRACK_VALUE_IDENT = 16;
/** Where the value holds the last function. */
export const TRACK_VALUE_FUNC = 24;

export interface SelectSpec {
  /** Test skb->mark (the MainProgramSpec's mark and mask); false when only other tests select. */
  markTest: boolean;
  filter?: PcapSelection;
  ifindex?: number;
  ifname?: string;
  /** The namespace's inode number, as `stat -L /proc/PID/ns/net` prints it. */
  netnsInum?: number;
  /** Offsets; needed by filter, ifindex, ifname and netnsInum. */
  layout?: SkbLayout;
  track?: TrackSpec;
}

export interface MarkTest {
  markOffset: number;
  mark: number;
  mask: number;
  probeRead: number;
}

/** The Ethernet header's length: a shorter link-layer header is not one the ethernet program can read. */
const ETH_HLEN = 14;
/** The packet copy: the module's stack, 8-aligned base; the Ethernet variant starts 2 bytes in. */
const BUF_BASE = -MODULE_STACK;
const BUF_SIZE = 248;

/** The tests, in order; rejects jump to `out`, a selected packet falls through with R8 = the track id.
 * isVerdict: a verdict tracepoint (the packet ends here); afterVerdict: a point that runs after a verdict
 * (a function's return, the free path), where an ended packet continues. devArg: the context's slot
 * holding the device the point is about, read instead of skb->dev. */
export function emitSelection(
  sel: SelectSpec,
  m: MarkTest,
  func: FuncSource,
  out: string,
  isVerdict: boolean,
  afterVerdict = false,
  devArg?: number,
): Insn[] {
  const p: Insn[] = [];
  if (sel.track) p.push(...trackLookup(sel.track, need(sel), m.probeRead, isVerdict, afterVerdict, func));
  const tests: Insn[] = [];
  if (sel.markTest) tests.push(...markTest(m, out));
  if (sel.ifindex !== undefined || sel.ifname !== undefined || sel.netnsInum !== undefined)
    tests.push(...deviceTests(sel, need(sel), m.probeRead, out, devArg));
  if (sel.filter) tests.push(...pcapTest(sel.filter, need(sel), m.probeRead, out));
  if (tests.length === 0) throw new Error("emitSelection: nothing selects packets");
  if (sel.track) tests[0] = asm.label("sel_untracked", tests[0]!);
  p.push(...tests);

  if (sel.track) p.push(...trackInsert(sel.track, need(sel), m.probeRead, isVerdict, func));
  return p;
}

// The fingerprint: a freed skb whose end no tracepoint saw (a datagram its socket read, a segment merged
// into another) leaves its entry behind, and the next packet the kernel puts at that address must not
// inherit it. So an entry also holds skb->head and the packet's identity, read from its headers: fields
// that one packet keeps through forwarding and NAT (which rewrite addresses, ports and checksums) and the
// next one rarely shares. The identity is 64 bits:
//   low 32   its kind: IPv4 (4 and the protocol), or IPv6 (6, the flow label and the next header);
//   high 32  what tells packets of one flow apart: the IPv4 identification, XORed with a TCP segment's
//            sequence and acknowledgment numbers (IPv4 without options and not a fragment, or IPv6 with
//            TCP as its next header); 0 when there is none (IPv6 without TCP; IPv4 with id 0 and no TCP).
// The head alone does not make a packet: the kernel reallocates a packet's data (pskb_expand_head: a
// clone made writable on forward or for NAT, more headroom), so a packet whose identity matches and tells
// packets apart keeps its entry under a new head. See trackLookup for the rules.
const FP_READS = SELECT_READS + 32; // skb->head and skb->network_header
const FP_IP = SELECT_READS + 64; // the network header's first FP_IP_LEN bytes
/** Up to a TCP header's acknowledgment number after an IPv6 header (40 + 12), in one read. */
const FP_IP_LEN = 56;

/** R9 = skb->head, R0 = the identity (0 when the network header is unset or not IP). */
function trackFingerprint(l: SkbLayout, probeRead: number, fail: string, pre: string): Insn[] {
  const { reads, slot } = placeReads(
    [
      { off: l.head, size: 8 },
      { off: l.networkHeader, size: 2 },
    ],
    { start: FP_READS, end: FP_IP },
  );
  const p: Insn[] = [];
  for (const r of reads) p.push(...probeReadInto(r.at, r.size, R7, r.skbOff, probeRead, fail));
  const tcpNumbers = (at: number): Insn[] => [
    asm.ldxMem(asm.W, R1, R10, FP_IP + at),
    asm.alu64Reg(asm.XOR, R0, R1),
    asm.ldxMem(asm.W, R1, R10, FP_IP + at + 4),
    asm.alu64Reg(asm.XOR, R0, R1),
  ];
  p.push(
    asm.ldxMem(asm.DW, R9, R10, slot.get(l.head)!),
    asm.ldxMem(asm.H, R3, R10, slot.get(l.networkHeader)!),
    asm.jmpImm(asm.JEQ, R3, 0, `${pre}none`),
    asm.alu64Reg(asm.ADD, R3, R9),
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, FP_IP),
    asm.mov64Imm(R2, FP_IP_LEN),
    asm.call(probeRead),
    asm.jmpImm(asm.JNE, R0, 0, `${pre}none`),
    asm.ldxMem(asm.B, R1, R10, FP_IP),
    asm.mov64Reg(R5, R1),
    asm.alu64Imm(asm.AND, R5, 0xf),
    asm.alu64Imm(asm.RSH, R1, 4),
    asm.jmpImm(asm.JEQ, R1, 6, `${pre}v6`),
    asm.jmpImm(asm.JNE, R1, 4, `${pre}none`),
    // IPv4: the identification (not the total length: __ip_local_out sets it after its entry, where a
    // function backend already sees the packet, so it would change between two points of one packet).
    asm.ldxMem(asm.B, R4, R10, FP_IP + 9),
    asm.alu64Imm(asm.LSH, R4, 8),
    asm.alu64Imm(asm.OR, R4, 4),
    asm.ldxMem(asm.H, R0, R10, FP_IP + 4),
    asm.jmpImm(asm.JNE, R5, 5, `${pre}join`),
    asm.jmpImm(asm.JNE, R4, (6 << 8) | 4, `${pre}join`),
    // A fragment's offset and more-fragments flag (big-endian bytes 6-7, loaded little-endian).
    asm.ldxMem(asm.H, R1, R10, FP_IP + 6),
    asm.alu64Imm(asm.AND, R1, 0xff3f),
    asm.jmpImm(asm.JNE, R1, 0, `${pre}join`),
    ...tcpNumbers(20 + 4),
    asm.ja(`${pre}join`),
    // IPv6: the flow label and the next header (not the payload length, for the same reason).
    asm.label(`${pre}v6`, asm.ldxMem(asm.W, R4, R10, FP_IP)),
    asm.alu32Imm(asm.AND, R4, 0xffff0f00 | 0),
    asm.ldxMem(asm.B, R1, R10, FP_IP + 6),
    asm.alu64Reg(asm.XOR, R4, R1),
    asm.alu64Imm(asm.OR, R4, 6 << 4),
    asm.mov64Imm(R0, 0),
    asm.jmpImm(asm.JNE, R1, 6, `${pre}join`),
    ...tcpNumbers(40 + 4),
    asm.label(`${pre}join`, asm.alu64Imm(asm.LSH, R0, 32)),
    asm.alu64Reg(asm.OR, R0, R4),
    asm.ja(`${pre}done`),
    asm.label(`${pre}none`, asm.mov64Imm(R0, 0)),
    asm.label(`${pre}done`, asm.mov64Reg(R0, R0)),
  );
  return p;
}

const TV_ID = SCRATCH_TRACK_VALUE;
const TV_HEAD = SCRATCH_TRACK_VALUE + TRACK_VALUE_HEAD;
const TV_IDENT = SCRATCH_TRACK_VALUE + TRACK_VALUE_IDENT;
const TV_FUNC = SCRATCH_TRACK_VALUE + TRACK_VALUE_FUNC;

/** A tracked packet with the same fingerprint: R8 = its id, on to sel_done (at a verdict, its entry is
 * marked ended). A stale entry is taken out; so is an ended one, except where the packet continues. */
export function trackLookup(
  t: TrackSpec,
  l: SkbLayout,
  probeRead: number,
  isVerdict: boolean,
  afterVerdict: boolean,
  func?: FuncSource,
): Insn[] {
  const p: Insn[] = [
    asm.stxMem(asm.DW, R10, R7, SCRATCH_TRACK_KEY),
    asm.ldMapFd(R1, t.mapFd),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(asm.ADD, R2, SCRATCH_TRACK_KEY),
    asm.call(Helper.map_lookup_elem),
    asm.jmpImm(asm.JEQ, R0, 0, "sel_untracked"),
    asm.stxMem(asm.DW, R10, R0, SCRATCH_TRACK_ENTRY),
    // The entry, copied: the map's value may change under us, and calls follow.
    asm.ldxMem(asm.DW, R1, R0, 0),
    asm.stxMem(asm.DW, R10, R1, TV_ID),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_IDENT),
    asm.stxMem(asm.DW, R10, R1, TV_IDENT),
    asm.ldxMem(asm.DW, R1, R0, TRACK_VALUE_HEAD),
    asm.stxMem(asm.DW, R10, R1, TV_HEAD),
    asm.jmpImm(asm.JNE, R1, 0, "sel_live"),
  ];
  // An ended packet: its free path (or a return) continues it; elsewhere the address is a new packet's.
  if (afterVerdict) p.push(asm.ldxMem(asm.DW, R8, R10, TV_ID), asm.ja("sel_done"));
  else p.push(...trackDelete(t.mapFd), asm.ja("sel_untracked"));
  p.push(
    asm.label("sel_live", asm.mov64Reg(R0, R0)),
    ...trackFingerprint(l, probeRead, "sel_untracked", "sel_fpl_"),
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
 * is the entry's packet, else to `stale`. Two identities, when both are known, must be equal. Then the
 * same head is the same packet; a new head is its data reallocated, when the identity tells packets apart
 * (its high half): the entry follows the new head. Without an identity on either side, the head decides
 * (and an entry made before its packet had an IP header takes the identity it has now). */
function sameFingerprint(stale: string): Insn[] {
  return [
    asm.ldxMem(asm.DW, R1, R10, TV_IDENT),
    asm.jmpImm(asm.JEQ, R1, 0, "sel_fp_head"),
    asm.jmpImm(asm.JEQ, R0, 0, "sel_fp_head"),
    asm.jmpReg(asm.JNE, R1, R0, stale),
    asm.ldxMem(asm.DW, R1, R10, TV_HEAD),
    asm.jmpReg(asm.JEQ, R1, R9, "sel_fp_same"),
    asm.alu64Imm(asm.RSH, R0, 32),
    asm.jmpImm(asm.JEQ, R0, 0, stale),
    asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY),
    asm.stxMem(asm.DW, R1, R9, TRACK_VALUE_HEAD),
    asm.ja("sel_fp_same"),
    asm.label("sel_fp_head", asm.ldxMem(asm.DW, R1, R10, TV_HEAD)),
    asm.jmpReg(asm.JNE, R1, R9, stale),
    asm.ldxMem(asm.DW, R1, R10, TV_IDENT),
    asm.jmpImm(asm.JNE, R1, 0, "sel_fp_same"),
    asm.ldxMem(asm.DW, R1, R10, SCRATCH_TRACK_ENTRY),
    asm.stxMem(asm.DW, R1, R0, TRACK_VALUE_IDENT),
    asm.label("sel_fp_same", asm.mov64Reg(R0, R0)),
  ];
}

/** A newly selected packet: its track id is now; it enters the map, as ended at a verdict (so that its
 * free path, which follows, continues it). */
export function trackInsert(
  t: TrackSpec,
  l: SkbLayout,
  probeRead: number,
  isVerdict: boolean,
  func: FuncSource,
): Insn[] {
  const p: Insn[] = [asm.call(Helper.ktime_get_ns), asm.mov64Reg(R8, R0)];
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
      ...trackFingerprint(l, probeRead, "sel_done", "sel_fpi_"),
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

/** The entry at the key becomes {TV_ID, ended}. */
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

/** Reads `size` bytes at `base` + `off` into the stack at R10 + `at`; a failed read jumps to `fail`. */
export function probeReadInto(
  at: number,
  size: number,
  base: number,
  off: number,
  probeRead: number,
  fail: string,
): Insn[] {
  return [
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, at),
    asm.mov64Imm(R2, size),
    asm.mov64Reg(R3, base),
    asm.alu64Imm(asm.ADD, R3, off),
    asm.call(probeRead),
    asm.jmpImm(asm.JNE, R0, 0, fail),
  ];
}

/** After the record is zeroed: its track id. Keeps R6-R9. */
export function emitTrackRecord(sel: SelectSpec): Insn[] {
  return sel.track ? [asm.stxMem(asm.DW, R10, R8, REC_TRACK)] : [];
}

function need(sel: SelectSpec): SkbLayout {
  if (!sel.layout) throw new Error("emitSelection: the skb layout is needed for this selection");
  return sel.layout;
}

/** counters[idx] += 1 on this CPU. */
function count(fd: number, idx: number, done: string): Insn[] {
  return [
    asm.stMem(asm.W, R10, SCRATCH_KEY, idx),
    asm.ldMapFd(R1, fd),
    asm.mov64Reg(R2, R10),
    asm.alu64Imm(asm.ADD, R2, SCRATCH_KEY),
    asm.call(Helper.map_lookup_elem),
    asm.jmpImm(asm.JEQ, R0, 0, done),
    asm.ldxMem(asm.DW, R1, R0, 0),
    asm.alu64Imm(asm.ADD, R1, 1),
    asm.stxMem(asm.DW, R0, R1, 0),
  ];
}

/** mark = *(u32 *)(skb + markOffset), read with probe_read: the skb is not a trusted pointer everywhere. */
function markTest(m: MarkTest, out: string): Insn[] {
  const p: Insn[] = [
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, SCRATCH_MARK),
    asm.mov64Imm(R2, 4),
    asm.mov64Reg(R3, R7),
    asm.alu64Imm(asm.ADD, R3, m.markOffset),
    asm.call(m.probeRead),
    asm.jmpImm(asm.JNE, R0, 0, out),
    asm.ldxMem(asm.W, R1, R10, SCRATCH_MARK),
  ];
  // 32-bit ALU and compare: a u32 immediate must not be sign-extended to 64 bits.
  if (m.mask !== 0xffffffff) p.push(asm.alu32Imm(asm.AND, R1, m.mask | 0));
  p.push(asm.jmp32Imm(asm.JNE, R1, (m.mark & m.mask) | 0, out));
  return p;
}

/** R3 = *(size *)(base + off) through probe_read into the stack at `at`; a failed read rejects. */
function readVia(
  base: number,
  off: number,
  size: 4 | 8 | 16,
  at: number,
  probeRead: number,
  out: string,
): Insn[] {
  return [
    ...probeReadInto(at, size, base, off, probeRead, out),
    ...(size === 16 ? [] : [asm.ldxMem(size === 8 ? asm.DW : asm.W, R3, R10, at)]),
  ];
}

/** The device's name as the kernel keeps it: the bytes up to and including the NUL, compared word by word
 * (bytes after the NUL may be left over from an earlier, longer name). */
export function nameWords(name: string): { value: bigint; mask: bigint }[] {
  const bytes = Buffer.from(`${name}\0`, "latin1");
  const out: { value: bigint; mask: bigint }[] = [];
  for (let w = 0; w * 8 < bytes.length; w++) {
    let value = 0n;
    let mask = 0n;
    for (let i = 0; i < 8 && w * 8 + i < bytes.length; i++) {
      value |= BigInt(bytes[w * 8 + i]!) << BigInt(8 * i);
      mask |= 0xffn << BigInt(8 * i);
    }
    out.push({ value, mask });
  }
  return out;
}

const T_PTR = SELECT_READS; // 8 bytes
const T_VAL = SELECT_READS + 8; // 8 bytes
const T_NAME = SELECT_READS + 16; // 16 bytes

function deviceTests(
  sel: SelectSpec,
  l: SkbLayout,
  probeRead: number,
  out: string,
  devArg: number | undefined,
): Insn[] {
  // R9 = the device: the point's own argument where it has one, else skb->dev.
  const p: Insn[] =
    devArg !== undefined
      ? [asm.ldxMem(asm.DW, R9, R6, 8 * devArg)]
      : [...readVia(R7, l.dev, 8, T_PTR, probeRead, out), asm.mov64Reg(R9, R3)];
  const byDevice = sel.ifindex !== undefined || sel.ifname !== undefined;
  // No device: the device tests fail; the namespace comes from the socket, if there is one.
  p.push(asm.jmpImm(asm.JEQ, R9, 0, byDevice ? out : "sel_nodev"));
  if (sel.ifindex !== undefined) {
    p.push(
      ...readVia(R9, l.devIfindex, 4, T_VAL, probeRead, out),
      asm.jmp32Imm(asm.JNE, R3, sel.ifindex | 0, out),
    );
  }
  if (sel.ifname !== undefined) {
    p.push(...readVia(R9, l.devName, 16, T_NAME, probeRead, out));
    nameWords(sel.ifname).forEach((w, i) => {
      p.push(asm.ldxMem(asm.DW, R1, R10, T_NAME + 8 * i));
      if (w.mask !== 0xffffffffffffffffn) p.push(asm.ldImm64(R2, w.mask), asm.alu64Reg(asm.AND, R1, R2));
      p.push(asm.ldImm64(R2, w.value), asm.jmpReg(asm.JNE, R1, R2, out));
    });
  }
  if (sel.netnsInum !== undefined) {
    p.push(...readVia(R9, l.devNet, 8, T_PTR, probeRead, out));
    if (!byDevice) {
      p.push(
        asm.ja("sel_net"),
        asm.label("sel_nodev", asm.mov64Reg(R9, R9)),
        ...readVia(R7, l.sk, 8, T_PTR, probeRead, out),
        asm.jmpImm(asm.JEQ, R3, 0, out),
        asm.mov64Reg(R9, R3),
        ...readVia(R9, l.skNet, 8, T_PTR, probeRead, out),
      );
    }
    p.push(
      asm.label("sel_net", asm.jmpImm(asm.JEQ, R3, 0, out)),
      asm.mov64Reg(R9, R3),
      ...readVia(R9, l.netInum, 4, T_VAL, probeRead, out),
      asm.jmp32Imm(asm.JNE, R3, sel.netnsInum | 0, out),
    );
  }
  return p;
}

interface Field {
  off: number;
  size: 2 | 4 | 8;
}

/** Where each skb field lands on the stack: fields read in as few probe_reads as fit (spans of at most
 * 128 bytes), each span placed at an address with the span's alignment so the loads are aligned. */
export function placeReads(
  fields: Field[],
  area: { start: number; end: number },
): {
  reads: { skbOff: number; size: number; at: number }[];
  slot: Map<number, number>;
} {
  const sorted = [...fields].sort((a, b) => a.off - b.off);
  const reads: { skbOff: number; size: number; at: number }[] = [];
  const slot = new Map<number, number>();
  let next = area.start;
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i]!.off;
    let end = start + sorted[i]!.size;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.off + sorted[j]!.size - start <= 128) {
      end = Math.max(end, sorted[j]!.off + sorted[j]!.size);
      j++;
    }
    // at ≡ start (mod 8): a field aligned in the skb is aligned on the stack.
    const at = next + ((((start - next) % 8) + 8) % 8);
    if (at + (end - start) > area.end)
      throw new Error("placeReads: the skb fields do not fit the stack area");
    reads.push({ skbOff: start, size: end - start, at });
    for (let k = i; k < j; k++) slot.set(sorted[k]!.off, at + sorted[k]!.off - start);
    next = at + (end - start);
    i = j;
  }
  return { reads, slot };
}

function pcapTest(f: PcapSelection, l: SkbLayout, probeRead: number, out: string): Insn[] {
  const fields: Field[] = [
    { off: l.len, size: 4 },
    { off: l.data, size: 8 },
    { off: l.head, size: 8 },
    { off: l.tail, size: 4 },
    { off: l.macHeader, size: 2 },
    { off: l.networkHeader, size: 2 },
  ];
  // The record's place and the module's stack below the packet copy's start are free here.
  const { reads, slot } = placeReads(fields, { start: SELECT_READS, end: SELECT_READS + 128 });
  const s = (off: number) => slot.get(off)!;
  const p: Insn[] = [];
  for (const r of reads) p.push(...probeReadInto(r.at, r.size, R7, r.skbOff, probeRead, out));
  p.push(
    asm.ldxMem(asm.H, R4, R10, s(l.macHeader)),
    asm.jmpImm(asm.JEQ, R4, 0xffff, "sel_raw"),
    asm.ldxMem(asm.H, R3, R10, s(l.networkHeader)),
    asm.alu64Reg(asm.SUB, R3, R4),
    asm.jmpImm(asm.JSLT, R3, ETH_HLEN, "sel_raw"),
    ...variant("ethernet", f.ethernet, l, s, probeRead, out),
    asm.label("sel_raw", asm.ldxMem(asm.H, R4, R10, s(l.networkHeader))),
  );
  if (f.raw) {
    // An offset of 0 is a network header never set (the skb's head has room before any header).
    p.push(asm.jmpImm(asm.JEQ, R4, 0, out), ...variant("raw", f.raw, l, s, probeRead, out));
  } else {
    p.push(asm.ja(out));
  }
  p.push(asm.label("sel_pcap_ok", asm.mov64Reg(R0, R0)));
  return p;
}

/** With R4 = the packet's start (an offset from head): copy, then filter; ends at sel_pcap_ok or `out`. */
function variant(
  kind: "ethernet" | "raw",
  cbpf: CbpfInsn[],
  l: SkbLayout,
  s: (off: number) => number,
  probeRead: number,
  out: string,
): Insn[] {
  const pre = kind === "ethernet" ? "sel_eth_" : "sel_ip_";
  const bufOff = BUF_BASE + ALIGN_SHIFT[kind];
  return [
    // R5 = the linear bytes from the start: tail - start, none when the start is past the tail.
    asm.ldxMem(asm.W, R5, R10, s(l.tail)),
    asm.alu64Reg(asm.SUB, R5, R4),
    asm.jmpImm(asm.JSGT, R5, 0, `${pre}avail`),
    asm.mov64Imm(R5, 0),
    // R1 = head + start; R9 = the wire length: len (counted from data) + (data - start).
    asm.label(`${pre}avail`, asm.ldxMem(asm.DW, R1, R10, s(l.head))),
    asm.alu64Reg(asm.ADD, R1, R4),
    asm.ldxMem(asm.DW, R9, R10, s(l.data)),
    asm.alu64Reg(asm.SUB, R9, R1),
    asm.ldxMem(asm.W, R0, R10, s(l.len)),
    asm.alu64Reg(asm.ADD, R9, R0),
    ...copyPacket({
      srcReg: R1,
      availReg: R5,
      bufOff,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      probeRead,
      labelPrefix: `${pre}copy_`,
    }),
    ...emitFilter(cbpf, {
      bufOff,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      wireLenReg: R9,
      scratchOff: SCRATCH_FILTER_M,
      match: "sel_pcap_ok",
      nomatch: out,
      labelPrefix: pre,
    }),
  ];
}
