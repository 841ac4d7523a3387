// An event part: what an event carries after its 128-byte record when the user asked for it (the device
// with -w, the packet's bytes with --snaplen, the kernel stack with --stack), or always at some events (a
// drop's facts at drop events). Each part is one file of this
// folder, one value of the EventPart kind below: how it sits in the record, the eBPF that fills it, how it
// prints and how the trace file keeps it. The registry (index.ts) lists them in the order they follow the
// record; adding a part is one file and one line there (docs/architecture.md shows the device's).
//
// In the kernel, the main program (program/extras.ts) reserves the record and every part's room in the ring
// buffer at once, copies the record in, then runs each part's fill code in registry order with
//   R6 = ctx, R7 = skb, R8 = the reservation, R9 = the bytes the run-time-sized parts before took past
//   `start` (0 when none); R0-R5 and the module's stack (SCRATCH..) are free.
// A part ends by falling through or jumping to `next`. The record's head says which parts an event has
// (a flag, or a length field the part's fill code writes), so a reader finds each one without the program.
import type { Insn } from "../../asm/index.js";
import { asm } from "../../asm/index.js";
import { R2, R8, R9 } from "../../asm/opcodes.js";
import type { DeviceLayout } from "./device.js";
import type { DropFactsLayout } from "./drop-facts.js";
import type { PacketLayout } from "./packet.js";
import type { StackMode } from "./stack.js";

/** What the user asked for and the kernel's layouts the parts read through. */
export interface PartsRequest {
  /** Packet bytes per event, at most (0: none). */
  snaplen: number;
  stack: StackMode;
  skb: PacketLayout;
  /** Each record gets the device part. */
  device?: DeviceLayout;
  /** Drop events get the drop-facts part. */
  dropFacts?: DropFactsLayout;
  /** The identity part (parts/identity.ts): the packet's first bytes and its device. */
  identity?: IdentityRequest;
}

/** Where the identity part is taken. */
export interface IdentityRequest {
  device: DeviceLayout;
  /** offsetof(struct sk_buff, mark). */
  mark: number;
  /** With tracking: the stack slot the selection sets to 1 where it made the packet's tracking entry
   * (its first event) and to 0 where it found one; the part is taken where it is 1, or where the
   * packet's device or look is not the one the entry keeps. Without: at every event. */
  track?: {
    firstSlot: number;
    /** The stack slot holding the found entry's address (a map value). */
    entrySlot: number;
    /** Where the entry keeps the device (skb->dev) the part was last taken on. */
    entryDev: number;
    /** The stack slot holding this point's look (program/track-fingerprint.ts: addresses, ports, mark). */
    lookSlot: number;
    /** Where the entry keeps the look the part was last taken with. */
    entryLook: number;
  };
}

/** The program's probe-read helpers (program/selection.ts), handed down: a part sits below program/. */
export interface ProbeReads {
  probeReadInto(at: number, size: number, base: number, off: number, probeRead: number, fail: string): Insn[];
  placeReads(
    fields: { off: number; size: number }[],
    area: { start: number; end: number },
  ): { reads: { skbOff: number; size: number; at: number }[]; slot: Map<number, number> };
}

export interface FillContext extends ProbeReads {
  req: PartsRequest;
  /** bpf_probe_read_kernel's helper id where the kernel has it, else bpf_probe_read's. */
  probeRead: number;
  /** The context's slot holding the point's own device argument (instead of skb->dev). */
  devArg?: number | undefined;
  /** The context's slot holding the socket a dropped packet was for (kfree_skb's rx_sk, since 6.11). */
  sockArg?: number | undefined;
  /** Where the part starts in the reservation, after the run-time-sized parts before it (R9). */
  start: number;
  /** The most bytes the run-time-sized parts before it may take (0: none before it). */
  varRoom: number;
  /** The label of what follows (the next part, or the submit). */
  next: string;
  /** The label that submits the reservation as it is. */
  submit: string;
}

/** Names a kernel code address (a stack frame): `function+0xoffset`, or hex. */
export type FrameNamer = (addr: bigint) => string;

export interface EventPart {
  /** Its name (labels in the program, messages). */
  readonly name: string;
  /** The JSON keys it prints, in order (captures may not reuse them). */
  readonly json: readonly string[];
  /** Its keys print after every other part's (the device's did before parts were listed here). */
  readonly jsonLast?: boolean;
  /** The bytes it takes in the record at `off` (0: this event does not have it), from the record's head. */
  size(dv: DataView, off: number): number;
  /** The bytes the program reserves for it at an attach unit (0: that unit's events do not carry it);
   * `verdictKind`: the unit's verdict (VERDICT_DROP at kfree_skb), undefined elsewhere. */
  room(req: PartsRequest, verdictKind: number | undefined): number;
  /** Its size is known only at run time (it leaves in R9 the bytes it took). */
  readonly runTimeSize: boolean;
  /** The eBPF that fills it in the reservation. */
  fill(ctx: FillContext, room: number): Insn[];
  /** `,"key":value...` for json ("" when the event does not have it); `at`: where it starts. */
  printJson(dv: DataView, off: number, at: number, frame: FrameNamer): string;
  /** Lines under the event's line in the text outputs ("" for none). */
  printText?(dv: DataView, off: number, at: number, frame: FrameNamer): string;
  /** How the trace file (-w) keeps it: "option", its bytes as they are, in ipft's event option after the
   * record's head; "data", the block's packet data (fromBlock() puts them back for --read). */
  readonly file: "option" | "data";
  /** An "option" part whose room is reserved at events that do not fill it all: how many of its leading
   * bytes this event filled (the file gets zeros for the rest, not what the ring held there before). */
  filled?(dv: DataView, off: number, at: number): number;
  /** --read: the part from a block's packet data and link type, written at `at` (a "data" part). */
  fromBlock?(dv: DataView, off: number, at: number, data: Uint8Array, linktype: number): void;
}

/** The part with every property set, in one order: the parts share one object shape, so the loops over
 * them on every event stay fast. Each part file makes its part with it. */
export function definePart(p: EventPart): EventPart {
  return {
    name: p.name,
    json: p.json,
    jsonLast: p.jsonLast ?? false,
    size: p.size,
    room: p.room,
    runTimeSize: p.runTimeSize,
    fill: p.fill,
    printJson: p.printJson,
    printText: p.printText,
    file: p.file,
    filled: p.filled,
    fromBlock: p.fromBlock,
  };
}

/** The module's stack (R10-256 .. R10-1) is free once the module is done: parts read into it. */
export const SCRATCH = -256;
export const SCRATCH_SPAN = 248;

/** R2 = where the part starts in the reservation: `start`, after the run-time-sized parts before it (R9
 * bytes, padded to 8, which the bound check tells the verifier is within their room). */
export function partPointer(ctx: FillContext): Insn[] {
  if (ctx.varRoom === 0) return [asm.mov64Reg(R2, R8), asm.alu64Imm(asm.ADD, R2, ctx.start)];
  return [
    asm.mov64Reg(R2, R9),
    asm.alu64Imm(asm.ADD, R2, 7),
    asm.alu64Imm(asm.AND, R2, -8),
    asm.jmpImm(asm.JGT, R2, ctx.varRoom, ctx.submit),
    asm.alu64Reg(asm.ADD, R2, R8),
    asm.alu64Imm(asm.ADD, R2, ctx.start),
  ];
}
