// One Enhanced Packet Block from a plain object, for callers that write a few packets and want every option
// at hand (tests, benchmarks, hand-made files); ipft's -w writes through PcapngWriter.beginPacket() itself.
import type { CustomOption, RawOption } from "./block-builder.js";
import {
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  type Direction,
  EPB_DROPCOUNT,
  EPB_FLAGS,
  EPB_PACKETID,
  META_PREFIX,
  OPT_COMMENT,
} from "./format.js";
import type { PcapngWriter } from "./writer.js";

export interface PacketInput {
  /** The id interfaceFor() returned. */
  interfaceId: number;
  /** Wall-clock time, nanoseconds since the Unix epoch (see clock.ts for bpf_ktime_get_ns). */
  timestampNs: bigint;
  /** The packet's bytes as captured (may be empty). */
  data: Uint8Array;
  /** The packet's whole length when `data` is only its start; default data.length. */
  originalLength?: number;
  /** opt_comment, one per string: the human-readable line first. */
  comments?: readonly string[];
  /** Written as one more comment, "ipft:" followed by this object as JSON (bigints as decimal strings). */
  meta?: Readonly<Record<string, unknown>>;
  /** epb_flags' direction bits. */
  direction?: Direction;
  /** epb_packetid: one id for one packet seen at several points (ipft: its packet id, output/packet/tracker.ts). */
  packetId?: bigint;
  /** epb_dropcount: events lost between the previous packet and this one. */
  dropCount?: bigint | number;
  custom?: readonly CustomOption[];
  options?: readonly RawOption[];
}

const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** One Enhanced Packet Block (its bytes cut to the interface's snaplen). */
export function writePacket(w: PcapngWriter, p: PacketInput): void {
  const b = w.beginPacket(
    p.interfaceId,
    Number(p.timestampNs >> 32n),
    Number(p.timestampNs & 0xffffffffn),
    p.data,
    0,
    p.data.length,
    p.originalLength ?? p.data.length,
  );
  for (const c of p.comments ?? []) b.optString(OPT_COMMENT, c);
  if (p.meta) b.optString(OPT_COMMENT, META_PREFIX + JSON.stringify(p.meta, jsonReplacer));
  if (p.direction) b.optU32(EPB_FLAGS, p.direction === "inbound" ? DIRECTION_INBOUND : DIRECTION_OUTBOUND);
  if (p.dropCount !== undefined && p.dropCount !== 0 && p.dropCount !== 0n)
    b.optU64(EPB_DROPCOUNT, BigInt(p.dropCount));
  if (p.packetId !== undefined) b.optU64(EPB_PACKETID, p.packetId);
  for (const c of p.custom ?? []) b.optCustom(c);
  for (const o of p.options ?? []) b.optRaw(o);
  w.endPacket();
}
