// The packet's bytes a record carries, for the pcapng writer: the one place that reads them.
//
// Planned layout (the record's reserved area, little endian), not filled by the main program yet:
//   48 u32 wire_len     the packet's whole length at this point
//   52 u32 cap_len      bytes copied after the 128-byte record (0: none)
//   56 u32 link         0: the bytes start at the link-layer header (Ethernet), 1: at the network header
//   60 u32 stack_depth  (not used here)
// Until the program fills these, the reserved area is zero (the program zeroes the whole record), cap_len is
// 0 and every event is written without bytes. When record/ gains its own accessors for these fields, this
// function's body becomes a call to them.
import { OFF_RESERVED, RECORD_SIZE } from "../record/record.js";

export interface PacketBytes {
  /** The captured bytes (a view into the record: valid only while the record is). */
  data: Uint8Array;
  /** The packet's whole length (at least data.length). */
  wireLen: number;
  link: "ethernet" | "raw";
}

const OFF_WIRE_LEN = OFF_RESERVED;
const OFF_CAP_LEN = OFF_RESERVED + 4;
const OFF_LINK = OFF_RESERVED + 8;

/** The bytes after the record at `off`, or undefined when it carries none. */
export function packetOf(dv: DataView, off: number): PacketBytes | undefined {
  const cap = dv.getUint32(off + OFF_CAP_LEN, true);
  if (cap === 0) return undefined;
  const start = off + RECORD_SIZE;
  if (start + cap > dv.byteLength) return undefined; // a record shorter than it says: no bytes
  return {
    data: new Uint8Array(dv.buffer, dv.byteOffset + start, cap),
    wireLen: Math.max(dv.getUint32(off + OFF_WIRE_LEN, true), cap),
    link: dv.getUint32(off + OFF_LINK, true) === 1 ? "raw" : "ethernet",
  };
}
