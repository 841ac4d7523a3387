// The 128-byte trace record the eBPF program sends (little endian). Read in place from the ring buffer.
//   0 u64 skb address   8 u64 timestamp (ns, bpf_ktime_get_ns)   16 u64 function address or attach id
//  24 u32 cpu          28 u32 flags (bit 0: a function return)   32..63 reserved
//  64..127 the 64 bytes the user's module filled in, for dump()
export const RECORD_SIZE = 128;
export const OFF_SKB = 0;
export const OFF_TSTAMP = 8;
export const OFF_FUNC = 16;
export const OFF_CPU = 24;
export const OFF_FLAGS = 28;
export const OFF_DATA = 64;
export const DATA_SIZE = 64;
export const FLAG_RETURN = 1;
/** The part every output keeps: skb, timestamp, function, cpu, flags. */
export const HEAD_SIZE = 32;

export const readSkb = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_SKB, true);
export const readTstamp = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_TSTAMP, true);
export const readFunc = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_FUNC, true);
export const readCpu = (dv: DataView, off: number): number => dv.getUint32(off + OFF_CPU, true);
export const readFlags = (dv: DataView, off: number): number => dv.getUint32(off + OFF_FLAGS, true);
export const isReturn = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_RETURN) !== 0;

/** Copies the 64 user bytes out (dump() may keep them). */
export function readData(dv: DataView, off: number): Uint8Array {
  return new Uint8Array(
    dv.buffer.slice(dv.byteOffset + off + OFF_DATA, dv.byteOffset + off + OFF_DATA + DATA_SIZE),
  );
}
