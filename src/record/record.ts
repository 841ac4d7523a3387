// The trace record: the one definition of what ipft's eBPF program sends to user space for each event.
// The program builder writes these fields at these offsets, the ring reader hands records over in place,
// the aggregate store keeps the head, the writers read and name them (JSON keys), and captures may not
// reuse those names. Adding a field is a change here plus its users. Little endian, 128 bytes:
//    0 u64 skb address (the packet id)    8 u64 timestamp (ns, bpf_ktime_get_ns)
//   16 u64 function address or attach id 24 u32 cpu      28 u32 flags (bit 0: a function return)
//   32 u32 verdict (0 none, 1 dropped, 2 consumed: set at the kfree_skb and consume_skb tracepoints)
//   36 u32 drop reason (the kernel's enum skb_drop_reason)   40 u64 location (where the kernel freed it)
//   48..55 reserved   56 u64 track id (the first-seen timestamp of a tracked packet, 0 when not tracked)
//   64..127 the 64 bytes the user's module filled in, for dump()

export interface RecordField {
  readonly offset: number;
  readonly size: number;
  /** The keys this field becomes in every JSON event, in output order. */
  readonly json: readonly string[];
}

/** Listed in the order their JSON keys are printed. */
export const FIELDS = {
  skb: { offset: 0, size: 8, json: ["packet_id"] },
  tstamp: { offset: 8, size: 8, json: ["timestamp"] },
  cpu: { offset: 24, size: 4, json: ["processor_id"] },
  /** A kernel function's address, or for a tracepoint an id ipft chose; printed as module and name. */
  func: { offset: 16, size: 8, json: ["module", "function"] },
  flags: { offset: 28, size: 4, json: ["is_return"] },
  /** Only on the event that ended the packet (JSON keys printed only there). */
  verdict: { offset: 32, size: 4, json: ["verdict"] },
  reason: { offset: 36, size: 4, json: ["drop_reason"] },
  location: { offset: 40, size: 8, json: ["location"] },
  reserved: { offset: 48, size: 8, json: [] },
  /** With tracking on: the packet's first-seen time (bpf_ktime_get_ns when it was first selected), the
   * same at every point it goes through, so a reused skb address never joins two packets; 0 otherwise. */
  track: { offset: 56, size: 8, json: [] },
  /** The user's module fills these; dump() or a capture decoder turns them into text. */
  data: { offset: 64, size: 64, json: [] },
} as const satisfies Record<string, RecordField>;

export const RECORD_SIZE = 128;
export const FLAG_RETURN = 1;

/** The verdict field's values. */
export const VERDICT_NONE = 0;
export const VERDICT_DROP = 1;
export const VERDICT_CONSUME = 2;

/** Every key a JSON event has before the script's or capture's own keys, in output order. */
export const EVENT_JSON_KEYS: readonly string[] = Object.values(FIELDS).flatMap((f) => f.json);

// Plain numbers for the hot paths (a property lookup per record adds up at a million records a second).
export const OFF_SKB = FIELDS.skb.offset;
export const OFF_TSTAMP = FIELDS.tstamp.offset;
export const OFF_FUNC = FIELDS.func.offset;
export const OFF_CPU = FIELDS.cpu.offset;
export const OFF_FLAGS = FIELDS.flags.offset;
export const OFF_VERDICT = FIELDS.verdict.offset;
export const OFF_REASON = FIELDS.reason.offset;
export const OFF_LOCATION = FIELDS.location.offset;
export const OFF_RESERVED = FIELDS.reserved.offset;
export const RESERVED_SIZE = FIELDS.reserved.size;
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

/** Copies the whole record at `off` to `dst[dstOff..dstOff+128)`: the ring's space is reused once read. */
export function copyRecord(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off, RECORD_SIZE), dstOff);
}

/** Copies the record's 64 user bytes to `dst[dstOff..dstOff+64)`. */
export function copyData(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off + OFF_DATA, DATA_SIZE), dstOff);
}
