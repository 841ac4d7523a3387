// The identity part: what the packet is and where, at its first event: the first IDENTITY_BYTES bytes of
// its linear part from the link-layer header (else the network header: a packet built locally), enough
// for an outer IPv4/IPv6 + UDP + VXLAN + inner Ethernet + IP + TCP, and its device (the device part's 24
// bytes) and skb->mark (one 4-byte read more). user space decodes the bytes (src/identity) and names the
// namespace. 168 bytes, when the record's flags have FLAG_IDENTITY:
//   +0 u16 cap_len (bytes copied; 0: none could be read)  +2 u8 link (LINK_ETHERNET or LINK_NETWORK)
//   +3 u8 taken (0: the event has the part's room only, what follows sits after it; the rest is not read)
//   +4 u32 wire_len (as the packet part's)  +8 the device (device.ts's layout)  +32 u32 skb->mark (0 where
//   the read failed)  +36 u32 zero  +40 the bytes, zero-padded
// Where: with tracking, at the event where the packet's tracking entry was made (the selection marks it in
// a stack slot: one store on the insert path, one on the found path; nothing on an unselected packet's
// event), so once per packet and once per clone; and again where it can have changed: where its device
// changed (the entry keeps the device, skb->dev, the part was last taken on; a later event whose skb->dev,
// one probe read, is another device takes the part again and keeps the new one: a packet crossing into
// another device or namespace), or where its look changed (the entry keeps the look the part was last
// taken with: a hash of the network header's addresses and ports and skb->mark, which the tracking lookup
// computes from the reads it makes anyway, program/track-fingerprint.ts). So a NAT rewrite, a new mark or
// a tunnel's encapsulation shows at the first event after it, on any backend, with no list of rewriting
// functions. No device (a packet being freed, a UDP datagram whose skb->dev holds UDP's scratch) is no
// move; its look is still compared. With --identity-every (no track slots given), and without tracking
// (--no-track), there is no first event to know of in the kernel: at every selected event, and the
// writers show it where it first appears for the packet and where it changed after.
// The room is reserved at every event of the attach points (a ring reservation has one size): the flag
// says the room is there, the taken byte whether the part was read at this event. json prints nothing of its own here: the writers decode it
// (output/identity-notes.ts). The trace file keeps the 160 bytes in ipft's event option.
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R2, R3, R4, R7, R8, R9, R10 } from "../../asm/opcodes.js";
import { FLAG_IDENTITY, FLAG_RETURN, LINK_NETWORK, OFF_FLAGS } from "../record.js";
import { type DeviceInfo, deviceAt, fillDevice } from "./device.js";
import { copyLinear } from "./packet.js";
import { definePart, type EventPart, type FillContext, SCRATCH } from "./part.js";

/** Packet bytes the part keeps (from the link-layer or network header). */
export const IDENTITY_BYTES = 128;
export const IDENTITY_SIZE = 40 + IDENTITY_BYTES;
const ID_CAP = 0;
const ID_LINK = 2;
/** u8: 1 where the part was read at this event, 0 where only its room is there. */
const ID_TAKEN = 3;
const ID_WIRE = 4;
const ID_DEVICE = 8;
const ID_MARK = 32;
const ID_BYTES = 40;

/** The identity part's values: bytes is a view into the record's memory (copy it to keep it). */
export interface IdentityInfo {
  bytes: Uint8Array;
  /** LINK_ETHERNET or LINK_NETWORK. */
  link: number;
  wireLen: number;
  device: DeviceInfo;
  /** skb->mark. */
  mark: number;
}

/** The part at `at` (from the record's start `off`), or undefined where it was not read at this event. */
export function identityAt(dv: DataView, off: number, at: number): IdentityInfo | undefined {
  const p = off + at;
  if (dv.getUint8(p + ID_TAKEN) === 0) return undefined;
  const cap = Math.min(dv.getUint16(p + ID_CAP, true), IDENTITY_BYTES);
  return {
    bytes: new Uint8Array(dv.buffer, dv.byteOffset + p + ID_BYTES, cap),
    link: dv.getUint8(p + ID_LINK) === LINK_NETWORK ? LINK_NETWORK : 0,
    wireLen: dv.getUint32(p + ID_WIRE, true),
    device: deviceAt(dv, off, at + ID_DEVICE),
    mark: dv.getUint32(p + ID_MARK, true),
  };
}

export const IDENTITY: EventPart = definePart({
  name: "identity",
  // The writers print these (output/identity-notes.ts): captures may not reuse them.
  json: ["identity", "packet_identity", "changed"],
  size: (dv, off) => ((dv.getUint32(off + OFF_FLAGS, true) & FLAG_IDENTITY) !== 0 ? IDENTITY_SIZE : 0),
  room: (req) => (req.identity ? IDENTITY_SIZE : 0),
  runTimeSize: false,
  fill,
  printJson: () => "",
  file: "option",
  // Not read at this event: the header only; read: the header, the device and the bytes taken.
  filled: (dv, off, at) => {
    const p = off + at;
    if (dv.getUint8(p + ID_TAKEN) === 0) return ID_DEVICE;
    return ID_BYTES + Math.min(dv.getUint16(p + ID_CAP, true), IDENTITY_BYTES);
  },
});

/** Falls through (R9 = 0) to what follows, with or without the part filled. */
function fill(ctx: FillContext): Insn[] {
  const r = ctx.req.identity!;
  if (ctx.varRoom > 0) throw new Error("the identity part must come before the parts of run-time size");
  const D = ctx.start;
  // The flag says the room is there (what follows sits after it either way); the taken byte whether the
  // part was read at this event. A reservation is not zeroed: the header is, on both paths.
  const p: Insn[] = [
    asm.ldxMem(asm.W, R1, R8, OFF_FLAGS),
    asm.alu32Imm(asm.OR, R1, FLAG_IDENTITY),
    asm.stxMem(asm.W, R8, R1, OFF_FLAGS),
    asm.stMem(asm.DW, R8, D, 0),
    // Not at a function's return: the skb may be freed or handed on by then (udp_rcv's return has no
    // device), and the entry's state is the call's.
    asm.jmpImm(asm.JSET, R1, FLAG_RETURN, "extras_id_done"),
  ];
  const t = r.track;
  if (t) {
    p.push(
      asm.ldxMem(asm.DW, R1, R10, t.firstSlot),
      asm.jmpImm(asm.JNE, R1, 0, "extras_id_take"),
      // A packet seen before: again where skb->dev is a device and not the one its entry keeps (a move),
      // or where its look (addresses, ports, mark: the lookup's fingerprint reads gave it) is not the
      // entry's (a rewrite: NAT, a tunnel's encapsulation or decapsulation, a new mark). skb->dev, not the
      // point's device argument: net_dev_xmit's is the device the packet just left (a veth has already
      // moved it to its peer), which would count as a move back and forth. No device (a packet being
      // let go of) is no move; its look is still compared.
      asm.mov64Reg(R1, R10),
      asm.alu64Imm(asm.ADD, R1, SCRATCH),
      asm.mov64Imm(R2, 8),
      asm.mov64Reg(R3, R7),
      asm.alu64Imm(asm.ADD, R3, r.device.dev),
      asm.call(ctx.probeRead),
      asm.ldxMem(asm.DW, R1, R10, t.entrySlot),
      asm.ldxMem(asm.DW, R4, R10, t.lookSlot),
      asm.jmpImm(asm.JNE, R0, 0, "extras_id_look"),
      asm.ldxMem(asm.DW, R2, R10, SCRATCH),
      asm.jmpImm(asm.JEQ, R2, 0, "extras_id_look"),
      asm.ldxMem(asm.DW, R3, R1, t.entryDev),
      asm.jmpReg(asm.JEQ, R3, R2, "extras_id_look"),
      asm.stxMem(asm.DW, R1, R2, t.entryDev),
      asm.stxMem(asm.DW, R1, R4, t.entryLook),
      asm.ja("extras_id_take"),
      asm.label("extras_id_look", asm.ldxMem(asm.DW, R3, R1, t.entryLook)),
      asm.jmpReg(asm.JEQ, R3, R4, "extras_id_done"),
      asm.stxMem(asm.DW, R1, R4, t.entryLook),
    );
  }
  p.push(
    { ...asm.stMem(asm.B, R8, D + ID_TAKEN, 1), label: "extras_id_take" },
    ...fillDevice(ctx, r.device, D + ID_DEVICE, "extras_idd_", 0),
    // skb->mark straight into the part (probe_read zeroes it where the read fails); +36 stays zero.
    asm.stMem(asm.DW, R8, D + ID_MARK, 0),
    asm.mov64Reg(R1, R8),
    asm.alu64Imm(asm.ADD, R1, D + ID_MARK),
    asm.mov64Imm(R2, 4),
    asm.mov64Reg(R3, R7),
    asm.alu64Imm(asm.ADD, R3, r.mark),
    asm.call(ctx.probeRead),
    ...copyLinear(ctx, {
      prefix: "extras_id_",
      dst: D + ID_BYTES,
      max: IDENTITY_BYTES,
      capAt: D + ID_CAP,
      wireAt: D + ID_WIRE,
      linkAt: D + ID_LINK,
      ok: "extras_id_done",
    }),
    asm.label("extras_id_done", asm.mov64Imm(R9, 0)),
  );
  return p;
}
