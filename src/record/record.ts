// The trace record: the one definition of what ipft's eBPF program sends to user space for each event.
// The program builder writes these fields at these offsets, the ring reader hands records over in place,
// the aggregate store keeps the head, the writers read and name them (JSON keys), and captures may not
// reuse those names. Adding a field is a change here plus its users. Little endian, 128 bytes:
//    0 u64 skb address                    8 u64 timestamp (ns, bpf_ktime_get_ns)
//   16 u64 function address or attach id 24 u32 cpu      28 u32 flags (bit 0: a function return,
//                                                         bit 1: a clone event, bit 2: a point of the
//                                                         skb's free path, plan/free-path.ts, bit 3:
//                                                         the device part follows, FLAG_DEVICE)
//   32 u32 verdict (0 none, 1 dropped, 2 consumed: set at the kfree_skb and consume_skb tracepoints)
//   36 u32 drop reason (the kernel's enum skb_drop_reason)   40 u64 location (where the kernel freed it)
//                                                                or, on a clone event, the parent's address
//   48 u32 wire_len   52 u16 cap_len   54 u8 link   55 u8 stack_depth
//   56 u64 track id (the first-seen timestamp of a tracked packet, 0 when not tracked)
//   64..127 the 64 bytes the user's module filled in, for dump()
//
// Extras (the device, --snaplen, --stack) follow the 128 bytes, so a record is longer than 128 bytes when it
// has them; recordLength() says how long. Without extras the fields of 48..55 are zero, FLAG_DEVICE is clear
// and the record is 128 bytes.
//   the device part (DEVICE_SIZE bytes), only when flags has FLAG_DEVICE (with -w: the pcapng file has an
//   interface per device, namespace and link type):
//     +0 u32 ifindex (skb->dev->ifindex, or at a tracepoint given the device as an argument, net_dev_xmit,
//        that device's: plan/device-args.ts; 0: no device)
//     +4 u32 netns: the inode of skb->dev's network namespace, else of skb->sk's when the skb has no
//        device yet (a packet built locally), 0 when neither (or the kernel has no namespaces)
//     +8 char[16] the device's name (skb->dev->name), NUL-padded; all zero without a device
//   then (at extrasStart(): 128, or 128 + DEVICE_SIZE)
//   .. +cap_len                 the packet's bytes as they were in memory at this event (linear part only)
//   padding to a multiple of 8
//   then stack_depth u64        return addresses, innermost first (bpf_get_stack: the tracing machinery's
//                               own frames come first, then the function the event is in, then its callers)
// wire_len: the packet's length counted from where the captured bytes start: skb->len plus the bytes
//   between that start and skb->data (the link-layer header already pulled on receive); 0 when no bytes
//   were captured. cap_len: how many of them follow (at most --snaplen, at most the linear part).
// link: where the bytes start. LINK_ETHERNET (0): at the link-layer (mac) header, which on Ethernet
//   devices and on lo is a 14-byte Ethernet header (pcapng LINKTYPE_ETHERNET); LINK_NETWORK (1): at the
//   network header (an IPv4 or IPv6 header: LINKTYPE_RAW), where the mac header was not set yet (a packet
//   built locally, before the device layer). Meaningful only when cap_len > 0.
// A record's extras are read with packetBytes(), stackAddrs() and recordLength() below; nothing may
// assume 128 bytes per record.

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
  /** --snaplen only (JSON keys printed only on events with packet bytes): the length from the captured
   * bytes' start, where they start, how many follow the record ("packet": them in hex). */
  wireLen: { offset: 48, size: 4, json: ["wire_len"] },
  link: { offset: 54, size: 1, json: ["link"] },
  capLen: { offset: 52, size: 2, json: ["cap_len", "packet"] },
  /** --stack only (printed only on events with a stack): "stack" is the symbolized return addresses. */
  stackDepth: { offset: 55, size: 1, json: ["stack"] },
  /** With tracking on: the packet's first-seen time (bpf_ktime_get_ns when it was first selected), the
   * same at every point it goes through, so a reused skb address never joins two packets; 0 otherwise. */
  track: { offset: 56, size: 8, json: [] },
  /** The user's module fills these; dump() or a capture decoder turns them into text. */
  data: { offset: 64, size: 64, json: [] },
  /** Not in the 128 bytes: the device part (FLAG_DEVICE, -w only), printed only on records that have it:
   * the device's name ("" without one), its ifindex, the namespace's inode. */
  device: { offset: RECORD_SIZE, size: 24, json: ["ifname", "ifindex", "netns"] },
} as const satisfies Record<string, RecordField>;

export const FLAG_RETURN = 1;
/** The event of a clone or copy of a tracked packet, where the clone function returned it: the record's skb
 * is the new packet (with its own track id), the location field holds the parent's skb address. Never
 * with FLAG_RETURN (the event is not one half of a function_graph call). */
export const FLAG_CLONE = 2;
/** An event in a function the kernel runs while freeing the skb (after its verdict, if it had one). */
export const FLAG_FREEING = 4;
/** The record has its device part (ifindex, namespace, name) right after the 128 bytes. */
export const FLAG_DEVICE = 8;
/** The device part's JSON keys. */
export const DEVICE_JSON_KEYS = FIELDS.device.json;
/** The device part's length (a multiple of 8: what follows stays 8-aligned). */
export const DEVICE_SIZE = 24;
export const DEV_IFINDEX = 0;
export const DEV_NETNS = 4;
export const DEV_NAME = 8;
export const DEV_NAME_SIZE = 16;

/** Whether the event may come after its packet's verdict and still be that packet's (a function's return,
 * the free path): such an event never starts a packet at an address whose packet has ended. */
export function continuesPacket(flags: number): boolean {
  return (flags & (FLAG_RETURN | FLAG_FREEING)) !== 0;
}

/** The verdict field's values. */
export const VERDICT_NONE = 0;
export const VERDICT_DROP = 1;
export const VERDICT_CONSUME = 2;

/** Not a field of the record: the packet's number in the trace (1, 2, 3... output/packet-ids.ts numbers
 * them from the track id or the skb address), each event's first JSON key. */
export const PACKET_ID_JSON = "packet_id";

/** Every key a JSON event has before the script's or capture's own keys, in output order. */
export const EVENT_JSON_KEYS: readonly string[] = [
  PACKET_ID_JSON,
  ...Object.values(FIELDS).flatMap((f) => f.json),
];

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
/** A clone event's parent (the skb address it was cloned or copied from), or undefined on other events. */
export const readParent = (dv: DataView, off: number): bigint | undefined =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_CLONE) !== 0
    ? dv.getBigUint64(off + OFF_LOCATION, true)
    : undefined;

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

/** Whether the record has its device part. */
export const hasDevice = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_DEVICE) !== 0;

/** Where the packet bytes start, from the record's start: after the device part when it has one. */
export const extrasStart = (dv: DataView, off: number): number =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_DEVICE) !== 0 ? RECORD_SIZE + DEVICE_SIZE : RECORD_SIZE;

/** Where the return addresses start: after the packet bytes, padded to 8. */
const stackOffset = (dv: DataView, off: number): number =>
  extrasStart(dv, off) + ((readCapLen(dv, off) + 7) & ~7);

/** The record's whole length: 128, its device part, its packet bytes padded to 8, 8 per return address. */
export function recordLength(dv: DataView, off: number): number {
  return stackOffset(dv, off) + 8 * readStackDepth(dv, off);
}

/** The packet bytes that follow the record (cap_len of them; empty without --snaplen). A view into `dv`'s
 * memory: copy it to keep it past the writer's write() (the ring's space is reused). */
export function packetBytes(dv: DataView, off: number): Uint8Array {
  return new Uint8Array(dv.buffer, dv.byteOffset + off + extrasStart(dv, off), readCapLen(dv, off));
}

/** The return addresses that follow the packet bytes, innermost first (empty without --stack). */
export function stackAddrs(dv: DataView, off: number): bigint[] {
  const n = readStackDepth(dv, off);
  const at = off + stackOffset(dv, off);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) out[i] = dv.getBigUint64(at + 8 * i, true);
  return out;
}

/** The device part of a record that has one (FLAG_DEVICE), else undefined. `name` is "" without a
 * device. */
export interface DeviceInfo {
  ifindex: number;
  netns: number;
  name: string;
}

export function readDevice(dv: DataView, off: number): DeviceInfo | undefined {
  if (!hasDevice(dv, off)) return undefined;
  const at = off + RECORD_SIZE;
  let name = "";
  for (let i = 0; i < DEV_NAME_SIZE; i++) {
    const c = dv.getUint8(at + DEV_NAME + i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return {
    ifindex: dv.getUint32(at + DEV_IFINDEX, true),
    netns: dv.getUint32(at + DEV_NETNS, true),
    name,
  };
}

/** Copies the record's first 128 bytes at `off` to `dst[dstOff..dstOff+128)` (its extras are not copied:
 * recordLength() says how long the whole is). */
export function copyRecord(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off, RECORD_SIZE), dstOff);
}

/** Copies the record's 64 user bytes to `dst[dstOff..dstOff+64)`. */
export function copyData(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off + OFF_DATA, DATA_SIZE), dstOff);
}
