// The fingerprint of a tracked packet, kept in its tracking map entry (program/track-map.ts).
// A freed skb whose end no tracepoint saw (a datagram its socket read, a segment merged
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
// With the identity part on, the same reads also give the packet's look (lookHash): what the part shows
// that a rewrite changes, for the part to be taken again where it changed (record/parts/identity.ts).
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R4, R5, R7, R9, R10 } from "../asm/opcodes.js";
import { placeReads, readAll } from "./probe-read.js";
import type { PacketLayout } from "./skb-layout.js";
import { SELECT_READS } from "./stack-layout.js";

const FP_READS = SELECT_READS + 16; // skb->head and skb->network_header (and skb->mark)
const FP_IP = SELECT_READS + 64; // the network header's first FP_IP_LEN bytes
/** Up to a TCP header's acknowledgment number after an IPv6 header (40 + 12), in one read. */
const FP_IP_LEN = 56;
/** skb->mark, where it does not share the first read (the 4 bytes after the network header's). */
const FP_MARK = FP_IP + FP_IP_LEN;

/** An odd 32-bit multiplier (sign-extended by the instruction): each step of the look is a bijection of
 * the word folded in, so one changed field always changes the look. */
const LOOK_MUL = 0x9e3779b1 | 0;

/** Where the look goes: `at` (a stack slot), with skb->mark's offset (it is part of the look). */
export interface LookSpec {
  mark: number;
  at: number;
}

/** R2 = the look of the IP header at FP_IP so far, folding in the words (size, offset) given; uses R3. */
const fold = (words: [4 | 8, number][]): Insn[] =>
  words.flatMap(([size, at]) => [
    asm.ldxMem(size === 8 ? asm.DW : asm.W, R3, R10, FP_IP + at),
    asm.alu64Reg(asm.XOR, R2, R3),
    asm.alu64Imm(asm.MUL, R2, LOOK_MUL),
  ]);

/** The look: the innermost-visible addresses and the first transport word (ports) of the network header,
 * then skb->mark. Not the TTL, the checksums or the lengths: forwarding changes them on every hop. */
const V4_LOOK = fold([
  [4, 12],
  [4, 16],
  [4, 20],
]);
const V6_LOOK = fold([
  [8, 8],
  [8, 16],
  [8, 24],
  [8, 32],
  [4, 40],
]);

export function trackFingerprint(
  l: PacketLayout,
  probeRead: number,
  fail: string,
  pre: string,
  look?: LookSpec,
): Insn[] {
  const fields: { off: number; size: 2 | 4 | 8 }[] = [
    { off: l.head, size: 8 },
    { off: l.networkHeader, size: 2 },
  ];
  const area = { start: FP_READS, end: FP_IP };
  let plan: ReturnType<typeof placeReads>;
  let markAt: number | undefined;
  // skb->mark sits near the headers' offsets in sk_buff (164 and 192 on 6.18): the same read takes it,
  // else (a layout where it does not fit) a read of its own, after the network header's bytes.
  try {
    plan = placeReads(look ? [...fields, { off: look.mark, size: 4 }] : fields, area);
    if (look) markAt = plan.slot.get(look.mark);
  } catch {
    plan = placeReads(fields, area);
    if (look) markAt = FP_MARK;
  }
  const { reads, slot } = plan;
  const p: Insn[] = [...readAll(reads, R7, probeRead, fail)];
  if (look && markAt === FP_MARK)
    p.push(...readAll([{ skbOff: look.mark, size: 4, at: FP_MARK }], R7, probeRead, fail));
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
    ...(look ? [asm.mov64Imm(R2, 0), ...V4_LOOK] : []),
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
    ...(look ? [asm.label(`${pre}v6`, asm.mov64Imm(R2, 0)), ...V6_LOOK] : []),
    look ? asm.ldxMem(asm.W, R4, R10, FP_IP) : asm.label(`${pre}v6`, asm.ldxMem(asm.W, R4, R10, FP_IP)),
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
    ...(look ? [asm.mov64Imm(R2, 0)] : []),
    asm.label(`${pre}done`, asm.mov64Reg(R0, R0)),
  );
  // The mark last: a packet without an IP header (ARP) has a look too.
  if (look)
    p.push(
      asm.ldxMem(asm.W, R3, R10, markAt!),
      asm.alu64Reg(asm.XOR, R2, R3),
      asm.alu64Imm(asm.MUL, R2, LOOK_MUL),
      asm.stxMem(asm.DW, R10, R2, look.at),
    );
  return p;
}
