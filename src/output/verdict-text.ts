// How a packet's verdict reads: `dropped (NO_SOCKET) at __udp4_lib_rcv+0x5e1`, `consumed at
// skb_consume_udp+0x39 (delivered to a UDP socket)`. Reason names and locations come from a VerdictNamer
// (the running kernel's BTF enum and kallsyms); this file only formats.
import {
  FIELDS,
  OFF_LOCATION,
  OFF_REASON,
  OFF_VERDICT,
  VERDICT_CONSUME,
  VERDICT_DROP,
} from "../record/record.js";
import type { VerdictNamer } from "./types.js";

const K_VERDICT = JSON.stringify(FIELDS.verdict.json[0]);
const K_REASON = JSON.stringify(FIELDS.reason.json[0]);
const K_LOCATION = JSON.stringify(FIELDS.location.json[0]);

/** Consume locations whose meaning is certain, in a network engineer's words. */
const CONSUMED_AT: Record<string, string> = {
  skb_consume_udp: "delivered to a UDP socket",
  tcp_data_queue: "data queued to a TCP socket",
};

export interface VerdictFields {
  kind: number;
  reason: number;
  location: bigint;
}

export function verdictOf(dv: DataView, off: number): VerdictFields | undefined {
  const kind = dv.getUint32(off + OFF_VERDICT, true);
  if (kind === 0) return undefined;
  return {
    kind,
    reason: dv.getUint32(off + OFF_REASON, true),
    location: dv.getBigUint64(off + OFF_LOCATION, true),
  };
}

export class VerdictText {
  constructor(private readonly namer: VerdictNamer) {}

  /** `NO_SOCKET` */
  reason(v: VerdictFields): string {
    return this.namer.reason(v.reason);
  }

  /** `__udp4_lib_rcv+0x5e1`, or "" when the kernel does not say. */
  location(v: VerdictFields): string {
    return v.location === 0n ? "" : this.namer.location(v.location);
  }

  /** The function part of the location, for grouping drops by place. */
  place(v: VerdictFields): string {
    return this.location(v).replace(/\+0x[0-9a-f]+$/, "") || "an unknown place";
  }

  /** `dropped (NO_SOCKET) at __udp4_lib_rcv+0x5e1` or `consumed at X (meaning)`. */
  text(v: VerdictFields): string {
    const loc = this.location(v);
    if (v.kind === VERDICT_DROP)
      return `dropped${v.reason ? ` (${this.reason(v)})` : ""}${loc ? ` at ${loc}` : ""}`;
    if (v.kind === VERDICT_CONSUME) {
      const meaning = CONSUMED_AT[this.place(v)];
      return `consumed${loc ? ` at ${loc}` : ""}${meaning ? ` (${meaning})` : ""}`;
    }
    return `verdict ${v.kind}`;
  }

  /** `,"verdict":"drop","drop_reason":"NO_SOCKET","location":"..."` */
  json(v: VerdictFields): string {
    const loc = this.location(v);
    const l = loc ? `,${K_LOCATION}:${JSON.stringify(loc)}` : "";
    if (v.kind === VERDICT_DROP) {
      const r = v.reason ? `,${K_REASON}:${JSON.stringify(this.reason(v))}` : "";
      return `,${K_VERDICT}:"drop"${r}${l}`;
    }
    return `,${K_VERDICT}:"consume"${l}`;
  }
}
