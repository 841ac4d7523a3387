// The record's extras (-w's device part, --snaplen, --stack): what the main program appends after the
// 128-byte record.
// Without extras the program sends the record with bpf_ringbuf_output from the stack, as always. With them
// it reserves 128 + snaplen (rounded up to 8) + 8 * MAX_STACK_DEPTH bytes (a constant: the verifier wants
// one), copies the record from the stack into the reservation, reads the packet's linear bytes and/or the
// kernel stack into it, fills the record's wire_len, cap_len, link and stack_depth (src/record/record.ts
// says what they mean) and submits it. A full ring counts a lost trace, as the plain path does.
//
// The packet: its bytes start at the mac header when the kernel has set it (skb->mac_header != 0xffff,
// the kernel's "unset" value for its u16 header offsets), else at the network header. The kernel's
// sk_buff fields are read with bpf_probe_read_kernel (the skb is not a trusted pointer everywhere) in as
// few reads as their offsets allow; tail is an offset from head (sk_buff_data_t is a u32 on 64-bit
// kernels), and only the linear part (head + start .. head + tail) is copied.
//
// The device part (with -w): FLAG_DEVICE is set in the reserved record, the part is zeroed, then
// skb->dev's ifindex and name are read into it, and the namespace's inode: of skb->dev's namespace, else
// (no device yet) of skb->sk's. A failed read leaves what it was to read zero. At a tracepoint that passes
// the device as an argument (net_dev_xmit: plan/device-args.ts) that device is read instead of skb->dev.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 } from "../asm/opcodes.js";
import {
  DEV_IFINDEX,
  DEV_NAME,
  DEV_NAME_SIZE,
  DEV_NETNS,
  DEVICE_SIZE,
  FLAG_DEVICE,
  MAX_STACK_DEPTH,
  OFF_CAP_LEN,
  OFF_FLAGS,
  OFF_LINK,
  OFF_STACK_DEPTH,
  OFF_WIRE_LEN,
  RECORD_SIZE,
  VERDICT_DROP,
} from "../record/record.js";
import { Helper } from "../sys/bpf-abi.js";
import { placeReads, probeReadInto } from "./probe-read.js";
import type { DeviceLayout, PacketLayout } from "./skb-layout.js";
import { RECORD } from "./stack-layout.js";

/** Where stacks are taken: nowhere, at the drop tracepoint (kfree_skb), or at every event. */
export const STACK_MODES = ["off", "drops", "all"] as const;
export type StackMode = (typeof STACK_MODES)[number];

/** What the user asked for; the program decides per attach unit whether it takes a stack. */
export interface ExtrasRequest {
  /** Packet bytes per event, at most (0: none). */
  snaplen: number;
  stack: StackMode;
  skb: PacketLayout;
  /** Each record gets the device part (FLAG_DEVICE). */
  device?: DeviceLayout;
}

/** Packet bytes reserved per record: snaplen rounded up to 8 (the stack follows, 8-aligned). */
export const snapRoom = (snaplen: number): number => (snaplen + 7) & ~7;

/** How many return addresses this unit's program takes (0: none). */
export function stackDepthFor(mode: StackMode, verdictKind: number | undefined): number {
  if (mode === "all" || (mode === "drops" && verdictKind === VERDICT_DROP)) return MAX_STACK_DEPTH;
  return 0;
}

/** The bytes one record takes in the ring with these extras (before the ring's 8-byte header). */
export const extrasRecordSize = (snaplen: number, stackDepth: number, device = false): number =>
  RECORD_SIZE + (device ? DEVICE_SIZE : 0) + snapRoom(snaplen) + 8 * stackDepth;

/** The module's stack (R10-256 .. R10-1) is free once the module is done: the sk_buff fields go there. */
const SCRATCH = -256;
const SCRATCH_SPAN = 248;

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

/**
 * The instructions that send the record with its extras, run after the module (R6 = ctx, R7 = skb; R8
 * and R9 are free again). They end by jumping to `out`, or to `lost` when the ring is full.
 */
export function extrasOutput(o: {
  req: ExtrasRequest;
  stackDepth: number;
  ringFd: number;
  probeRead: number;
  /** The context's slot holding the point's own device argument (instead of skb->dev). */
  devArg?: number;
  out: string;
  lost: string;
}): Insn[] {
  const { snaplen } = o.req;
  const room = snapRoom(snaplen);
  const dev = o.req.device;
  /** Where the packet bytes start in the reservation. */
  const start = RECORD_SIZE + (dev ? DEVICE_SIZE : 0);
  const size = start + room + 8 * o.stackDepth;
  const p: Insn[] = [
    asm.ldMapFd(R1, o.ringFd),
    asm.mov64Imm(R2, size),
    asm.mov64Imm(R3, 0),
    asm.call(Helper.ringbuf_reserve),
    asm.jmpImm(asm.JEQ, R0, 0, o.lost),
    asm.mov64Reg(R8, R0),
  ];
  for (let k = 0; k < RECORD_SIZE; k += 8)
    p.push(asm.ldxMem(asm.DW, R1, R10, RECORD + k), asm.stxMem(asm.DW, R8, R1, k));
  const afterPacket = o.stackDepth > 0 ? "extras_stack" : "extras_submit";
  if (dev) p.push(...devicePart(dev, o.probeRead, o.devArg));

  if (snaplen > 0) {
    const reads = groupReads(o.req.skb);
    const at = new Map<Read, number>();
    let s = SCRATCH;
    for (const r of reads) {
      at.set(r, s);
      p.push(...probeReadInto(s, r.size, R7, r.lo, o.probeRead, "extras_nopkt"));
      s += (r.size + 7) & ~7;
    }
    // Where field `off` of the sk_buff sits in the scratch copy.
    const slot = (off: number): number => {
      const r = reads.find((x) => off >= x.lo && off < x.lo + x.size)!;
      return at.get(r)! + (off - r.lo);
    };
    const L = o.req.skb;
    p.push(
      // R9 = where the bytes start (an offset from head): the mac header, else the network header.
      asm.ldxMem(asm.H, R9, R10, slot(L.macHeader)),
      asm.jmpImm(asm.JNE, R9, 0xffff, "extras_start"),
      asm.ldxMem(asm.H, R9, R10, slot(L.networkHeader)),
      asm.jmpImm(asm.JEQ, R9, 0xffff, "extras_nopkt"),
      asm.stMem(asm.B, R8, OFF_LINK, 1),
      // R2 = bytes of the linear part from there: tail - start (none when the start is past the tail),
      // at most snaplen. The bounds checks are what lets the verifier accept R2 as the read's length.
      { ...asm.ldxMem(asm.W, R2, R10, slot(L.tail)), label: "extras_start" },
      asm.alu64Reg(asm.SUB, R2, R9),
      asm.jmpImm(asm.JSLE, R2, 0, "extras_nopkt"),
      asm.jmpImm(asm.JLE, R2, snaplen, "extras_cap"),
      asm.mov64Imm(R2, snaplen),
      // wire_len = len + (data - (head + start)): the bytes before data (a pulled header) count too.
      { ...asm.ldxMem(asm.DW, R1, R10, slot(L.data)), label: "extras_cap" },
      asm.ldxMem(asm.DW, R3, R10, slot(L.head)),
      asm.alu64Reg(asm.SUB, R1, R3),
      asm.alu64Reg(asm.SUB, R1, R9),
      asm.ldxMem(asm.W, R4, R10, slot(L.len)),
      asm.alu64Reg(asm.ADD, R1, R4),
      asm.stxMem(asm.W, R8, R1, OFF_WIRE_LEN),
      asm.stxMem(asm.H, R8, R2, OFF_CAP_LEN),
      asm.alu64Reg(asm.ADD, R3, R9),
      asm.mov64Reg(R9, R2),
      asm.mov64Reg(R1, R8),
      asm.alu64Imm(asm.ADD, R1, start),
      asm.call(o.probeRead),
      asm.jmpImm(asm.JEQ, R0, 0, afterPacket),
      // No packet bytes after all: the fields say so.
      { ...asm.stMem(asm.H, R8, OFF_CAP_LEN, 0), label: "extras_nopkt" },
      asm.stMem(asm.W, R8, OFF_WIRE_LEN, 0),
      asm.stMem(asm.B, R8, OFF_LINK, 0),
      asm.mov64Imm(R9, 0),
    );
  }

  if (o.stackDepth > 0) {
    const stackAt: Insn[] =
      snaplen > 0
        ? [
            // After the packet bytes, padded to 8; the bound check tells the verifier what is already true.
            asm.mov64Reg(R2, R9),
            asm.alu64Imm(asm.ADD, R2, 7),
            asm.alu64Imm(asm.AND, R2, -8),
            asm.jmpImm(asm.JGT, R2, room, "extras_submit"),
            asm.alu64Reg(asm.ADD, R2, R8),
            asm.alu64Imm(asm.ADD, R2, start),
          ]
        : [asm.mov64Reg(R2, R8), asm.alu64Imm(asm.ADD, R2, start)];
    stackAt[0] = { ...stackAt[0]!, label: "extras_stack" };
    p.push(
      ...stackAt,
      asm.mov64Reg(R1, R6),
      asm.mov64Imm(R3, 8 * o.stackDepth),
      asm.mov64Imm(R4, 0),
      asm.call(Helper.get_stack),
      asm.jmpImm(asm.JSLE, R0, 0, "extras_submit"),
      asm.alu64Imm(asm.RSH, R0, 3),
      asm.stxMem(asm.B, R8, R0, OFF_STACK_DEPTH),
    );
  }
  p.push(
    { ...asm.mov64Reg(R1, R8), label: "extras_submit" },
    asm.mov64Imm(R2, 0),
    asm.call(Helper.ringbuf_submit),
    asm.ja(o.out),
  );
  return p;
}

/** The device part, with R6 = ctx, R8 = the reservation, R7 = skb; uses R9 and the scratch area. Falls
 * through. The
 * device's ifindex, name and namespace pointer sit within a few dozen bytes of each other in today's
 * net_device: one probe read takes them all when they do (placeReads). */
function devicePart(l: DeviceLayout, probeRead: number, devArg: number | undefined): Insn[] {
  const D = RECORD_SIZE;
  // R9 = *(u64 *)(src + off) through the scratch area; a failed read or NULL goes to `none`.
  const ptr = (src: number, off: number, none: string): Insn[] => [
    ...probeReadInto(SCRATCH, 8, src, off, probeRead, none),
    asm.ldxMem(asm.DW, R9, R10, SCRATCH),
    asm.jmpImm(asm.JEQ, R9, 0, none),
  ];
  const netns = l.devNet >= 0 && l.skNet >= 0 && l.netInum >= 0;
  // The name is copied as two u64 words when it is 8-aligned in net_device (it is), else read on its own.
  const nameWords = l.devName % 8 === 0;
  const fields: { off: number; size: 4 | 8 }[] = [{ off: l.devIfindex, size: 4 }];
  if (nameWords) fields.push({ off: l.devName, size: 8 }, { off: l.devName + 8, size: 8 });
  if (netns) fields.push({ off: l.devNet, size: 8 });
  const area = { start: SCRATCH + 8, end: SCRATCH + SCRATCH_SPAN };
  let plan: ReturnType<typeof placeReads>;
  try {
    plan = placeReads(fields, area);
  } catch {
    // Too far apart to share reads within the scratch area: one read per field.
    plan = { reads: [], slot: new Map() };
    fields.forEach((f, i) => {
      plan.reads.push({ skbOff: f.off, size: f.size, at: area.start + 8 * i });
      plan.slot.set(f.off, area.start + 8 * i);
    });
  }
  const slot = (off: number): number => plan.slot.get(off)!;
  const p: Insn[] = [
    asm.ldxMem(asm.W, R1, R8, OFF_FLAGS),
    asm.alu32Imm(asm.OR, R1, FLAG_DEVICE),
    asm.stxMem(asm.W, R8, R1, OFF_FLAGS),
  ];
  for (let k = 0; k < DEVICE_SIZE; k += 8) p.push(asm.stMem(asm.DW, R8, D + k, 0));
  const noDev = netns ? "extras_dev_sk" : "extras_dev_done";
  if (devArg !== undefined) p.push(asm.ldxMem(asm.DW, R9, R6, 8 * devArg), asm.jmpImm(asm.JEQ, R9, 0, noDev));
  else p.push(...ptr(R7, l.dev, noDev));
  for (const r of plan.reads)
    p.push(...probeReadInto(r.at, r.size, R9, r.skbOff, probeRead, "extras_dev_done"));
  p.push(asm.ldxMem(asm.W, R1, R10, slot(l.devIfindex)), asm.stxMem(asm.W, R8, R1, D + DEV_IFINDEX));
  if (nameWords)
    p.push(
      asm.ldxMem(asm.DW, R1, R10, slot(l.devName)),
      asm.stxMem(asm.DW, R8, R1, D + DEV_NAME),
      asm.ldxMem(asm.DW, R1, R10, slot(l.devName + 8)),
      asm.stxMem(asm.DW, R8, R1, D + DEV_NAME + 8),
    );
  else
    p.push(
      asm.mov64Reg(R1, R8),
      asm.alu64Imm(asm.ADD, R1, D + DEV_NAME),
      asm.mov64Imm(R2, DEV_NAME_SIZE),
      asm.mov64Reg(R3, R9),
      asm.alu64Imm(asm.ADD, R3, l.devName),
      asm.call(probeRead),
    );
  if (netns) {
    p.push(
      asm.ldxMem(asm.DW, R9, R10, slot(l.devNet)),
      asm.jmpImm(asm.JEQ, R9, 0, "extras_dev_done"),
      asm.ja("extras_dev_inum"),
      asm.label("extras_dev_sk", asm.mov64Reg(R0, R0)),
      ...ptr(R7, l.sk, "extras_dev_done"),
      ...ptr(R9, l.skNet, "extras_dev_done"),
      asm.label("extras_dev_inum", asm.mov64Reg(R1, R8)),
      asm.alu64Imm(asm.ADD, R1, D + DEV_NETNS),
      asm.mov64Imm(R2, 4),
      asm.mov64Reg(R3, R9),
      asm.alu64Imm(asm.ADD, R3, l.netInum),
      asm.call(probeRead),
    );
  }
  p.push(asm.label("extras_dev_done", asm.mov64Imm(R9, 0)));
  return p;
}
