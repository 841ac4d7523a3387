// The trace record: the one definition of what ipft's eBPF program sends to user space for each event.
// The program builder writes these fields at these offsets, the ring reader hands records over in place,
// the aggregate store keeps the head, the writers read and name them (JSON keys), and captures may not
// reuse those names. Adding a field is a change here plus its users. Little endian, 128 bytes:
//    0 u64 skb address                    8 u64 timestamp (ns, bpf_ktime_get_ns)
//   16 u64 function address or attach id 24 u32 cpu      28 u32 flags (bit 0: a function return,
//                                                         bit 1: a clone event, bit 2: a point of the
//                                                         skb's free path, plan/free-path.ts, bit 3:
//                                                         the device part follows, FLAG_DEVICE, bit 4:
//                                                         the identity part follows, FLAG_IDENTITY,
//                                                         bit 5: the drop-facts part, FLAG_DROP_FACTS)
//   32 u32 verdict (0 none, 1 dropped, 2 consumed: set at the kfree_skb and consume_skb tracepoints)
//   36 u32 drop reason (the kernel's enum skb_drop_reason)   40 u64 location (where the kernel freed it)
//                                                                or, on a clone event, the parent's address
//   48 u32 wire_len   52 u16 cap_len   54 u8 link   55 u8 stack_depth
//   56 u64 track id (the first-seen timestamp of a tracked packet, 0 when not tracked)
//   64..127 the 64 bytes the user's module filled in, for dump()
//
// The event's parts (the device, --snaplen's packet bytes, --stack's return addresses) follow the 128
// bytes when it has them: parts/ describes each, and parts/index.ts finds them (recordLength(),
// partStart()); nothing may assume 128 bytes per record. Without parts the fields of 48..55 are zero and
// FLAG_DEVICE is clear.
// wire_len, cap_len and link are the packet part's (parts/packet.ts), stack_depth the stack part's.

export const RECORD_SIZE = 128;

export interface RecordField {
  readonly offset: number;
  readonly size: number;
  /** The keys this field becomes in every JSON event, in output order. */
  readonly json: readonly string[];
}

/** Listed in the order their JSON keys are printed. */
export const FIELDS = {
  /** The sk_buff's address: not a packet's id (the kernel reuses it at once; PACKET_ID_JSON is). */
  skb: { offset: 0, size: 8, json: ["skb"] },
  tstamp: { offset: 8, size: 8, json: ["timestamp"] },
  cpu: { offset: 24, size: 4, json: ["processor_id"] },
  /** A kernel function's address, or for a tracepoint an id ipft chose; printed as module and name. */
  func: { offset: 16, size: 8, json: ["module", "function"] },
  flags: { offset: 28, size: 4, json: ["is_return"] },
  /** Only on the event that ended the packet (JSON keys printed only there). "delivered" is not read
   * from the record: it marks an event where the packet's data was copied to user space (a delivery
   * point, output/verdict-text.ts), printed only there, in the verdict's place. */
  verdict: { offset: 32, size: 4, json: ["verdict", "delivered"] },
  /** "explanation" is not read from the record: why the drop happened (explain/), on the verdict event. */
  reason: { offset: 36, size: 4, json: ["drop_reason", "explanation"] },
  /** Two meanings, never on one event: at a verdict, where the kernel freed the packet ("location");
   * on a clone event (FLAG_CLONE: the record is the clone's, at the return of skb_clone, skb_copy...),
   * the address of the tracked packet it was made from ("parent", printed only there). */
  location: { offset: 40, size: 8, json: ["location", "parent"] },
  /** The packet part's (parts/packet.ts, which prints them): the length from the captured bytes' start,
   * where they start, how many follow the record. */
  wireLen: { offset: 48, size: 4, json: [] },
  link: { offset: 54, size: 1, json: [] },
  capLen: { offset: 52, size: 2, json: [] },
  /** The stack part's (parts/stack.ts): how many return addresses it has. */
  stackDepth: { offset: 55, size: 1, json: [] },
  /** With tracking on: the packet's first-seen time (bpf_ktime_get_ns when it was first selected), the
   * same at every point it goes through, so a reused skb address never joins two packets; 0 otherwise. */
  track: { offset: 56, size: 8, json: [] },
  /** The user's module fills these; dump() or a capture decoder turns them into text. */
  data: { offset: 64, size: 64, json: [] },
} as const satisfies Record<string, RecordField>;

export const FLAG_RETURN = 1;
/** The event of a clone or copy of a tracked packet, where the clone function returned it: the record's skb
 * is the new packet (with its own track id), the location field holds the parent's skb address. Never
 * with FLAG_RETURN (the event is not one half of a function_graph call). */
export const FLAG_CLONE = 2;
/** An event in a function the kernel runs while freeing the skb (after its verdict, if it had one). */
export const FLAG_FREEING = 4;
/** The record has its device part (parts/device.ts). Each part that a flag announces takes its bit here. */
export const FLAG_DEVICE = 8;
/** The record has its identity part (parts/identity.ts). */
export const FLAG_IDENTITY = 16;
/** The record has its drop-facts part (parts/drop-facts.ts): a drop's device and network header. */
export const FLAG_DROP_FACTS = 32;
/** The flag bits that announce a part (the other parts are announced by their length in the head). */
export const PART_FLAGS = FLAG_DEVICE | FLAG_IDENTITY | FLAG_DROP_FACTS;

/** Whether the event may come after its packet's verdict and still be that packet's (a function's return,
 * the free path): such an event never starts a packet at an address whose packet has ended. */
export function continuesPacket(flags: number): boolean {
  return (flags & (FLAG_RETURN | FLAG_FREEING)) !== 0;
}

/** The verdict field's values. */
export const VERDICT_NONE = 0;
export const VERDICT_DROP = 1;
export const VERDICT_CONSUME = 2;

/** Not a field of the record: the packet's number in the trace (1, 2, 3... output/packet/tracker.ts numbers
 * them from the track id or the skb address), each event's first JSON key. */
export const PACKET_ID_JSON = "packet_id";

// Plain numbers for the hot paths (a property lookup per record adds up at a million records a second).
export const OFF_SKB = FIELDS.skb.offset;
export const OFF_TSTAMP = FIELDS.tstamp.offset;
export const OFF_FUNC = FIELDS.func.offset;
export const OFF_CPU = FIELDS.cpu.offset;
export const OFF_FLAGS = FIELDS.flags.offset;
export const OFF_VERDICT = FIELDS.verdict.offset;
export const OFF_REASON = FIELDS.reason.offset;
export const OFF_LOCATION = FIELDS.location.offset;
export const OFF_WIRE_LEN = FIELDS.wireLen.offset;
export const OFF_CAP_LEN = FIELDS.capLen.offset;
export const OFF_LINK = FIELDS.link.offset;
export const OFF_STACK_DEPTH = FIELDS.stackDepth.offset;
export const OFF_TRACK = FIELDS.track.offset;
export const OFF_DATA = FIELDS.data.offset;
export const DATA_SIZE = FIELDS.data.size;
/** The part every event has (the aggregate store keeps it for each trace): up to the verdict. */
export const HEAD_SIZE = OFF_VERDICT;
/** A u64 field's high 32 bits sit this far into it (the record is little endian): the hot paths read
 * `off + OFF_X` and `off + OFF_X + HIGH_WORD` as two numbers rather than one bigint. */
export const HIGH_WORD = 4;
/** The record's k-th 32-bit word (the aggregate store copies the head word by word). */
export const readHeadWord = (dv: DataView, off: number, k: number): number => dv.getUint32(off + 4 * k, true);

export const readSkb = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_SKB, true);
export const readTimestamp = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_TSTAMP, true);
export const readFunc = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_FUNC, true);
export const readCpu = (dv: DataView, off: number): number => dv.getUint32(off + OFF_CPU, true);
export const readFlags = (dv: DataView, off: number): number => dv.getUint32(off + OFF_FLAGS, true);
export const readVerdict = (dv: DataView, off: number): number => dv.getUint32(off + OFF_VERDICT, true);
export const readReason = (dv: DataView, off: number): number => dv.getUint32(off + OFF_REASON, true);
export const readTrack = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_TRACK, true);
export const readLocation = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_LOCATION, true);
export const isReturn = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_RETURN) !== 0;
/** Whether the event is a clone event (FLAG_CLONE: its location field holds the parent's address). */
export const isClone = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_CLONE) !== 0;
/** A clone event's parent (the skb address it was cloned or copied from), or undefined on other events. */
export const readParent = (dv: DataView, off: number): bigint | undefined =>
  isClone(dv, off) ? dv.getBigUint64(off + OFF_LOCATION, true) : undefined;

/** The link field's values: where the packet bytes start. */
export const LINK_ETHERNET = 0;
export const LINK_NETWORK = 1;
export type LinkKind = typeof LINK_ETHERNET | typeof LINK_NETWORK;

/** Most packet bytes a record may carry (--snaplen's limit) and most return addresses (the program's
 * bpf_get_stack buffer). */
export const MAX_SNAPLEN = 4096;
export const MAX_STACK_DEPTH = 32;

export const readWireLen = (dv: DataView, off: number): number => dv.getUint32(off + OFF_WIRE_LEN, true);
export const readCapLen = (dv: DataView, off: number): number => dv.getUint16(off + OFF_CAP_LEN, true);
export const readLink = (dv: DataView, off: number): number => dv.getUint8(off + OFF_LINK);
export const readStackDepth = (dv: DataView, off: number): number => dv.getUint8(off + OFF_STACK_DEPTH);

/** Whether any part follows the record: a part's flag, or a part's length in the head (cap_len,
 * stack_depth). Most events have none: the writers ask this before looking at each part. */
export const hasParts = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & PART_FLAGS) !== 0 ||
  dv.getUint16(off + OFF_CAP_LEN, true) !== 0 ||
  dv.getUint8(off + OFF_STACK_DEPTH) !== 0;

/** Copies the record's first 128 bytes at `off` to `dst[dstOff..dstOff+128)` (its parts are not copied:
 * parts/index.ts's recordLength() says how long the whole is). */
export function copyRecord(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off, RECORD_SIZE), dstOff);
}

/** Copies the record's 64 user bytes to `dst[dstOff..dstOff+64)`. */
export function copyData(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off + OFF_DATA, DATA_SIZE), dstOff);
}
