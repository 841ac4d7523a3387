// Exact text of the record's u64 fields (timestamps, addresses) without making a bigint per record.
import { HIGH_WORD, OFF_SKB, OFF_TSTAMP } from "../../record/record.js";

/** The decimal digits of the u64 `hi * 2^32 + lo`, exact for every value, without making a bigint. */
export function decimalOfHalves(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * 0x100000000 + lo);
  // Beyond 2^53 (ktime after 104 days of uptime): 2^32 = 4294 * 10^6 + 967296, so the value is
  // (hi * 4294) * 10^6 + (hi * 967296 + lo), and both parts stay exact in a double.
  const low = hi * 967296 + lo;
  const carry = Math.floor(low / 1e6);
  return `${hi * 4294 + carry}${String(low - carry * 1e6).padStart(6, "0")}`;
}

/** Two hex digits per byte value: Number.prototype.toString(16) costs several times more per call. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The u64 `hi * 2^32 + lo` as `0x` and lowercase hex digits without leading zeros (C's %p, %#lx). */
export function hexOfHalves(lo: number, hi: number): string {
  if (hi === 0) return `0x${lo.toString(16)}`;
  const s =
    HEX2[hi >>> 24]! +
    HEX2[(hi >>> 16) & 255]! +
    HEX2[(hi >>> 8) & 255]! +
    HEX2[hi & 255]! +
    HEX2[lo >>> 24]! +
    HEX2[(lo >>> 16) & 255]! +
    HEX2[(lo >>> 8) & 255]! +
    HEX2[lo & 255]!;
  let z = 0;
  while (z < 7 && s.charCodeAt(z) === 48) z++;
  return `0x${z > 0 ? s.slice(z) : s}`;
}

export const u64Decimal = (dv: DataView, at: number): string =>
  decimalOfHalves(dv.getUint32(at, true), dv.getUint32(at + HIGH_WORD, true));
export const u64Hex = (dv: DataView, at: number): string =>
  hexOfHalves(dv.getUint32(at, true), dv.getUint32(at + HIGH_WORD, true));

export const skbHex = (dv: DataView, off: number): string => u64Hex(dv, off + OFF_SKB);
export const timestampDecimal = (dv: DataView, off: number): string => u64Decimal(dv, off + OFF_TSTAMP);
