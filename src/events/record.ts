// The 128-byte trace record the eBPF program sends through the ring buffer (little endian):
//    0 u64 skb address (the packet id)    8 u64 timestamp (ns, bpf_ktime_get_ns)
//   16 u64 function address or attach id 24 u32 cpu      28 u32 flags (bit 0: a function return)
//   32..63 reserved                       64..127 the 64 bytes the user's module filled in, for dump()
// Everything here reads in place from a DataView over the ring: no copy, no object per record.
export const RECORD_SIZE = 128;
export const OFF_SKB = 0;
export const OFF_TSTAMP = 8;
export const OFF_FUNC = 16;
export const OFF_CPU = 24;
export const OFF_FLAGS = 28;
export const OFF_RESERVED = 32;
export const RESERVED_SIZE = 32;
export const OFF_DATA = 64;
export const DATA_SIZE = 64;
export const FLAG_RETURN = 1;
/** The part every output keeps: skb, timestamp, function, cpu, flags. */
export const HEAD_SIZE = 32;

export const readSkb = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_SKB, true);
export const readTimestamp = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_TSTAMP, true);
export const readFunc = (dv: DataView, off: number): bigint => dv.getBigUint64(off + OFF_FUNC, true);
export const readCpu = (dv: DataView, off: number): number => dv.getUint32(off + OFF_CPU, true);
export const readFlags = (dv: DataView, off: number): number => dv.getUint32(off + OFF_FLAGS, true);
export const isReturn = (dv: DataView, off: number): boolean =>
  (dv.getUint32(off + OFF_FLAGS, true) & FLAG_RETURN) !== 0;

/** The decimal digits of the u64 `hi * 2^32 + lo`, exact for every value, without making a bigint. */
export function decimalOfHalves(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * 0x100000000 + lo);
  // Beyond 2^53 (ktime after 104 days of uptime): 2^32 = 4294 * 10^6 + 967296, so the value is
  // (hi * 4294) * 10^6 + (hi * 967296 + lo), and both parts stay exact in a double.
  const low = hi * 967296 + lo;
  const carry = Math.floor(low / 1e6);
  return `${hi * 4294 + carry}${String(low - carry * 1e6).padStart(6, "0")}`;
}

/** The u64 `hi * 2^32 + lo` as `0x` and lowercase hex digits without leading zeros (C's %p, %#lx). */
export function hexOfHalves(lo: number, hi: number): string {
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`;
}

export const u64Decimal = (dv: DataView, at: number): string =>
  decimalOfHalves(dv.getUint32(at, true), dv.getUint32(at + 4, true));
export const u64Hex = (dv: DataView, at: number): string =>
  hexOfHalves(dv.getUint32(at, true), dv.getUint32(at + 4, true));

export const skbHex = (dv: DataView, off: number): string => u64Hex(dv, off + OFF_SKB);
export const timestampDecimal = (dv: DataView, off: number): string => u64Decimal(dv, off + OFF_TSTAMP);

/** Copies the whole record at `off` to `dst[dstOff..dstOff+128)`: the ring's space is reused once read. */
export function copyRecord(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off, RECORD_SIZE), dstOff);
}

/** Copies the record's 64 user bytes to `dst[dstOff..dstOff+64)`. */
export function copyData(src: DataView, off: number, dst: Uint8Array, dstOff: number): void {
  dst.set(new Uint8Array(src.buffer, src.byteOffset + off + OFF_DATA, DATA_SIZE), dstOff);
}
