// The packet's bytes a record carries (--snaplen), for the pcapng writer: read through the record's own
// accessors (src/record/record.ts), as the pcapng link type wants them.
import { PACKET, packetBytes, partStart } from "../record/parts/index.js";
import { LINK_NETWORK, readCapLen, readLink, readWireLen } from "../record/record.js";

export interface PacketBytes {
  /** The captured bytes (a view into the record: valid only while the record is). */
  data: Uint8Array;
  /** The packet's whole length (at least data.length). */
  wireLen: number;
  link: "ethernet" | "raw";
}

/** The bytes after the record at `off`, or undefined when it carries none. */
export function packetOf(dv: DataView, off: number): PacketBytes | undefined {
  const cap = readCapLen(dv, off);
  if (cap === 0) return undefined;
  if (off + partStart(dv, off, PACKET) + cap > dv.byteLength) return undefined; // a record shorter than it says: no bytes
  return {
    data: packetBytes(dv, off),
    wireLen: Math.max(readWireLen(dv, off), cap),
    link: readLink(dv, off) === LINK_NETWORK ? "raw" : "ethernet",
  };
}
