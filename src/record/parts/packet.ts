// The packet part (--snaplen, 256 bytes with -w): the packet's bytes as they were in memory at this event
// (the linear part only), cap_len of them, padded to 8. The record's head says how many (cap_len: at most
// --snaplen, at most the linear part), where they start (link) and the length counted from that start
// (wire_len: skb->len plus the bytes between that start and skb->data, the link-layer header already
// pulled on receive); all three are 0 when the event has no bytes.
// link: LINK_ETHERNET (0), the bytes start at the link-layer (mac) header, on Ethernet devices and on lo a
// 14-byte Ethernet header (pcapng LINKTYPE_ETHERNET); LINK_NETWORK (1), at the network header (an IPv4 or
// IPv6 header: LINKTYPE_RAW), where the mac header was not set yet (a packet built locally).
// In the kernel: the bytes start at the mac header when the kernel has set it (skb->mac_header != 0xffff,
// the kernel's "unset" value for its u16 header offsets), else at the network header. The sk_buff fields
// are read with bpf_probe_read_kernel (the skb is not a trusted pointer everywhere) in as few reads as their
// offsets allow; tail is an offset from head (sk_buff_data_t is a u32 on 64-bit kernels).
// json prints `"wire_len"`, `"link"` ("mac" or "network"), `"cap_len"` and `"packet"` (hex); the text
// outputs leave them out; the trace file has them as the block's packet data on an Ethernet or raw IP
// interface.
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R2, R3, R4, R7, R8, R9, R10 } from "../../asm/opcodes.js";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../pcapng/format.js";
import {
  LINK_ETHERNET,
  LINK_NETWORK,
  OFF_CAP_LEN,
  OFF_LINK,
  OFF_WIRE_LEN,
  readCapLen,
  readLink,
  readWireLen,
} from "../record.js";
import { definePart, type EventPart, type FillContext, SCRATCH, SCRATCH_SPAN } from "./part.js";

/** offsetof(struct sk_buff, ...) of the fields the packet copy reads. */
export interface PacketLayout {
  len: number;
  head: number;
  data: number;
  tail: number;
  macHeader: number;
  networkHeader: number;
}

/** Packet bytes reserved per record: snaplen rounded up to 8 (what follows stays 8-aligned). */
export const snapRoom = (snaplen: number): number => (snaplen + 7) & ~7;

const JSON_KEYS = ["wire_len", "link", "cap_len", "packet"] as const;
const [K_WIRE, K_LINK, K_CAP, K_PACKET] = JSON_KEYS.map((k) => JSON.stringify(k));
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** The bytes at `at` (from the record's start `off`): a view into `dv`'s memory. */
export const packetAt = (dv: DataView, off: number, at: number): Uint8Array =>
  new Uint8Array(dv.buffer, dv.byteOffset + off + at, readCapLen(dv, off));

export const PACKET: EventPart = definePart({
  name: "packet",
  json: JSON_KEYS,
  size: (dv, off) => (readCapLen(dv, off) + 7) & ~7,
  room: (req) => snapRoom(req.snaplen),
  runTimeSize: true,
  fill,
  printJson(dv, off, at) {
    const cap = readCapLen(dv, off);
    if (cap === 0) return "";
    const link = readLink(dv, off) === LINK_NETWORK ? "network" : "mac";
    return `,${K_WIRE}:${readWireLen(dv, off)},${K_LINK}:"${link}",${K_CAP}:${cap},${K_PACKET}:"${hexOf(packetAt(dv, off, at))}"`;
  },
  file: "data",
  fromBlock(dv, off, at, data, linktype) {
    // Bytes only on an Ethernet or raw IP interface (the others' data is a placeholder).
    const bytes = linktype === LINKTYPE_ETHERNET || linktype === LINKTYPE_RAW ? data : EMPTY;
    dv.setUint16(off + OFF_CAP_LEN, bytes.length, true);
    if (bytes.length > 0) {
      new Uint8Array(dv.buffer, dv.byteOffset + off + at, bytes.length).set(bytes);
      dv.setUint8(off + OFF_LINK, linktype === LINKTYPE_RAW ? LINK_NETWORK : LINK_ETHERNET);
    } else dv.setUint32(off + OFF_WIRE_LEN, 0, true);
  },
});
const EMPTY = new Uint8Array(0);

interface Read {
  lo: number;
  size: number;
}

/** The skb fields in one probe read when they sit within the scratch area's span (they do on today's
 * kernels: about 100 bytes apart), else one read each. */
function groupReads(l: PacketLayout): Read[] {
  const fields = [
    { lo: l.len, size: 4 },
    { lo: l.head, size: 8 },
    { lo: l.data, size: 8 },
    { lo: l.tail, size: 4 },
    { lo: l.macHeader, size: 2 },
    { lo: l.networkHeader, size: 2 },
  ];
  const lo = Math.min(...fields.map((f) => f.lo));
  const hi = Math.max(...fields.map((f) => f.lo + f.size));
  return hi - lo <= SCRATCH_SPAN ? [{ lo, size: hi - lo }] : fields;
}

/** Leaves R9 = the bytes copied (0 when none) and goes to `next` (or falls through after no bytes). */
function fill(ctx: FillContext): Insn[] {
  if (ctx.varRoom > 0) throw new Error("the packet part must come before the other parts of run-time size");
  return copyLinear(ctx, {
    prefix: "extras_",
    dst: ctx.start,
    max: ctx.req.snaplen,
    capAt: OFF_CAP_LEN,
    wireAt: OFF_WIRE_LEN,
    linkAt: OFF_LINK,
    ok: ctx.next,
  });
}

/** Where copyLinear() puts the bytes and says how many (offsets in the reservation). */
export interface LinearCopy {
  /** Its labels start with it. */
  prefix: string;
  dst: number;
  /** At most this many bytes. */
  max: number;
  /** u16 cap_len, u32 wire_len, u8 link (LINK_ETHERNET or LINK_NETWORK). */
  capAt: number;
  wireAt: number;
  linkAt: number;
  /** Where it goes once bytes were copied. */
  ok: string;
}

/** Copies the linear part of the packet from its mac header (else network header), at most `max` bytes,
 * to `dst`: leaves R9 = the bytes copied and goes to `ok`, or falls through with R9 = 0 and the three
 * fields zero. With R7 = skb, R8 = the reservation; uses R0-R4 and the scratch area. */
export function copyLinear(ctx: FillContext, o: LinearCopy): Insn[] {
  const lb = (name: string) => `${o.prefix}${name}`;
  const reads = groupReads(ctx.req.skb);
  const at = new Map<Read, number>();
  const p: Insn[] = [];
  let s = SCRATCH;
  for (const r of reads) {
    at.set(r, s);
    p.push(
      asm.mov64Reg(R1, R10),
      asm.alu64Imm(asm.ADD, R1, s),
      asm.mov64Imm(R2, r.size),
      asm.mov64Reg(R3, R7),
      asm.alu64Imm(asm.ADD, R3, r.lo),
      asm.call(ctx.probeRead),
      asm.jmpImm(asm.JNE, R0, 0, lb("nopkt")),
    );
    s += (r.size + 7) & ~7;
  }
  // Where field `off` of the sk_buff sits in the scratch copy.
  const slot = (off: number): number => {
    const r = reads.find((x) => off >= x.lo && off < x.lo + x.size)!;
    return at.get(r)! + (off - r.lo);
  };
  const L = ctx.req.skb;
  p.push(
    // R9 = where the bytes start (an offset from head): the mac header, else the network header. A mac
    // header after a set network header is stale: the packet was encapsulated since (a tunnel's xmit
    // pushes an outer IP header and resets only the network header; __dev_queue_xmit sets the mac header
    // after its entry), so the network header, the outer packet's, is where it starts.
    asm.ldxMem(asm.H, R9, R10, slot(L.macHeader)),
    asm.jmpImm(asm.JEQ, R9, 0xffff, lb("net")),
    asm.ldxMem(asm.H, R1, R10, slot(L.networkHeader)),
    asm.jmpImm(asm.JEQ, R1, 0, lb("start")),
    asm.jmpReg(asm.JLE, R9, R1, lb("start")),
    { ...asm.ldxMem(asm.H, R9, R10, slot(L.networkHeader)), label: lb("net") },
    asm.jmpImm(asm.JEQ, R9, 0xffff, lb("nopkt")),
    asm.stMem(asm.B, R8, o.linkAt, LINK_NETWORK),
    // R2 = bytes of the linear part from there: tail - start (none when the start is past the tail),
    // at most max. The bounds checks are what lets the verifier accept R2 as the read's length.
    { ...asm.ldxMem(asm.W, R2, R10, slot(L.tail)), label: lb("start") },
    asm.alu64Reg(asm.SUB, R2, R9),
    asm.jmpImm(asm.JSLE, R2, 0, lb("nopkt")),
    asm.jmpImm(asm.JLE, R2, o.max, lb("cap")),
    asm.mov64Imm(R2, o.max),
    // wire_len = len + (data - (head + start)): the bytes before data (a pulled header) count too.
    { ...asm.ldxMem(asm.DW, R1, R10, slot(L.data)), label: lb("cap") },
    asm.ldxMem(asm.DW, R3, R10, slot(L.head)),
    asm.alu64Reg(asm.SUB, R1, R3),
    asm.alu64Reg(asm.SUB, R1, R9),
    asm.ldxMem(asm.W, R4, R10, slot(L.len)),
    asm.alu64Reg(asm.ADD, R1, R4),
    asm.stxMem(asm.W, R8, R1, o.wireAt),
    asm.stxMem(asm.H, R8, R2, o.capAt),
    asm.alu64Reg(asm.ADD, R3, R9),
    asm.mov64Reg(R9, R2),
    asm.mov64Reg(R1, R8),
    asm.alu64Imm(asm.ADD, R1, o.dst),
    asm.call(ctx.probeRead),
    asm.jmpImm(asm.JEQ, R0, 0, o.ok),
    // No packet bytes after all: the fields say so.
    { ...asm.stMem(asm.H, R8, o.capAt, 0), label: lb("nopkt") },
    asm.stMem(asm.W, R8, o.wireAt, 0),
    asm.stMem(asm.B, R8, o.linkAt, 0),
    asm.mov64Imm(R9, 0),
  );
  return p;
}
