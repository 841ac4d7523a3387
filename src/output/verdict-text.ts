// How a packet's verdict reads: `dropped (NO_SOCKET) at __udp4_lib_rcv+0x5e1`, `consumed at
// skb_consume_udp+0x39 (delivered to a UDP socket)`, or, without a verdict tracepoint, `delivered (copied
// to user space at skb_copy_datagram_iovec)`; a drop whose reason explain/ knows adds why after a colon.
// Reason names and locations come from a VerdictNamer (the running kernel's BTF enum and kallsyms); this
// file only formats, and remembers what it formatted: verdicts repeat (the same reason at the same place),
// so each distinct one is named once.
import { type Explanation, explainDrop, explanationJson, explanationText } from "../explain/explanation.js";
import { dropFacts, HAS_FACTS } from "../explain/facts.js";
import { readDropFacts } from "../record/parts/index.js";
import {
  FIELDS,
  HIGH_WORD,
  OFF_LOCATION,
  OFF_REASON,
  OFF_TSTAMP,
  OFF_VERDICT,
  VERDICT_CONSUME,
  VERDICT_DROP,
} from "../record/record.js";
import { NameCache } from "./text/name-cache.js";
import type { DropDetails, Symbolizer, VerdictNamer } from "./types.js";

const K_VERDICT = JSON.stringify(FIELDS.verdict.json[0]);
const K_REASON = JSON.stringify(FIELDS.reason.json[0]);
const K_LOCATION = JSON.stringify(FIELDS.location.json[0]);
const K_DELIVERED = JSON.stringify(FIELDS.verdict.json[1]);
/** A drop's explanation in JSON (explain/explanation.ts: cause, failure, text, facts). */
const K_EXPLANATION = JSON.stringify(FIELDS.reason.json[1]);

/** Where a packet's data is copied to a reader in user space: the skb_copy_datagram_iovec tracepoint and
 * skb_copy_datagram_iter, the function that fires it (UDP, TCP, raw and packet sockets read through it).
 * The kernel frees a packet read this way on a path without a verdict tracepoint, so a packet whose last
 * event is here was delivered, not lost from sight. */
const DELIVERY_POINTS: ReadonlySet<string> = new Set(["skb_copy_datagram_iovec", "skb_copy_datagram_iter"]);
export const isDeliveryPoint = (fn: string): boolean => DELIVERY_POINTS.has(fn);
/** How a packet last seen at delivery point `fn` ended (aggregate's `Verdict:` line). */
export const deliveredVerdict = (fn: string): string => `delivered (copied to user space at ${fn})`;
/** What an event at a delivery point says: after the function in stream, as a key in json. */
export const DELIVERED_TEXT = "delivered (copied to user space)";
export const DELIVERED_JSON = `,${K_DELIVERED}:true`;

/** `text` for the functions that are delivery points, "" for the others, cached by address. */
export const deliveryTexts = (symbolizer: Symbolizer, text: string): NameCache =>
  new NameCache(symbolizer, (s) => (isDeliveryPoint(s.name) ? text : ""));

/** Consume locations whose meaning is certain, in a network engineer's words. */
const CONSUMED_AT: Record<string, string> = {
  skb_consume_udp: "delivered to a UDP socket",
  tcp_data_queue: "data queued to a TCP socket",
  // (plan/late-free.ts; where it is inlined, in net_rx_action, other frees share the name)
  skb_defer_free_flush: "freed late: a socket read it on another CPU",
};

/** A record's verdict fields, as numbers (the location as its two 32-bit halves: no bigint per event). */
export interface VerdictFields {
  kind: number;
  reason: number;
  locLo: number;
  locHi: number;
  /** The event's timestamp (its halves): what DropDetails finds a drop's own facts by. */
  tsLo: number;
  tsHi: number;
}

export function verdictOf(dv: DataView, off: number): VerdictFields | undefined {
  const kind = dv.getUint32(off + OFF_VERDICT, true);
  if (kind === 0) return undefined;
  return {
    kind,
    reason: dv.getUint32(off + OFF_REASON, true),
    locLo: dv.getUint32(off + OFF_LOCATION, true),
    locHi: dv.getUint32(off + OFF_LOCATION + HIGH_WORD, true),
    tsLo: dv.getUint32(off + OFF_TSTAMP, true),
    tsHi: dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true),
  };
}

/** One distinct verdict's texts. */
interface Named {
  kind: number;
  reason: number;
  locHi: number;
  text: string;
  json: string;
  /** "REASON at function", the summary's key for drops. */
  place: string;
  /** A drop's explanation (explain/), when its reason is known. */
  why: Explanation | undefined;
  /** The text without the explanation (aggregate writes it on a line of its own). */
  head: string;
  /** The JSON without the explanation. */
  jsonHead: string;
  next: Named | undefined;
}

export class VerdictText {
  private readonly byLoc = new Map<number, Named>();

  constructor(
    private readonly namer: VerdictNamer,
    /** Facts about single drops learned apart from the record (--nft-trace). */
    private readonly details?: DropDetails,
  ) {}

  /** This event's texts: its drop's own explanation when DropDetails has one, else its verdict's. */
  private at(v: VerdictFields): Named {
    const n = this.named(v);
    if (this.details === undefined || v.kind !== VERDICT_DROP) return n;
    const d = this.details.get(v.tsHi, v.tsLo);
    if (d === undefined) return n;
    const text = `${n.head}: ${explanationText(d.why)}`;
    const json = `${n.jsonHead},${K_EXPLANATION}:${explanationJson(d.why)}`;
    return { ...n, text, json, why: d.why, place: d.place };
  }

  /** Whether this drop has facts of its own (its summary key is its own). */
  detailed(v: VerdictFields): boolean {
    return (
      this.details !== undefined && v.kind === VERDICT_DROP && this.details.get(v.tsHi, v.tsLo) !== undefined
    );
  }

  private named(v: VerdictFields): Named {
    const first = this.byLoc.get(v.locLo | 0);
    for (let e = first; e !== undefined; e = e.next)
      if (e.locHi === v.locHi && e.reason === v.reason && e.kind === v.kind) return e;
    const made = this.make(v, first);
    this.byLoc.set(v.locLo | 0, made);
    return made;
  }

  private make(v: VerdictFields, next: Named | undefined): Named {
    const addr = (BigInt(v.locHi) << 32n) | BigInt(v.locLo >>> 0);
    const loc = addr === 0n ? "" : this.namer.location(addr);
    const fn = loc.replace(/\+0x[0-9a-f]+$/, "") || "an unknown place";
    const at = loc ? ` at ${loc}` : "";
    const l = loc ? `,${K_LOCATION}:${JSON.stringify(loc)}` : "";
    let text: string;
    let json: string;
    let place = "";
    let why: Explanation | undefined;
    let head: string;
    let jsonHead: string;
    if (v.kind === VERDICT_DROP) {
      const reason = v.reason ? this.namer.reason(v.reason) : "";
      why = reason ? explainDrop(reason, loc ? fn : "") : undefined;
      head = `dropped${reason ? ` (${reason})` : ""}${at}`;
      text = why ? `${head}: ${explanationText(why)}` : head;
      json = `,${K_VERDICT}:"drop"${reason ? `,${K_REASON}:${JSON.stringify(reason)}` : ""}${l}`;
      jsonHead = json;
      if (why) json += `,${K_EXPLANATION}:${explanationJson(why)}`;
      const cause = why && why.cause !== reason ? `${why.cause} (${reason})` : reason;
      place = `${cause || "no reason given"} at ${fn}`;
    } else if (v.kind === VERDICT_CONSUME) {
      const meaning = CONSUMED_AT[fn];
      text = head = `consumed${at}${meaning ? ` (${meaning})` : ""}`;
      json = jsonHead = `,${K_VERDICT}:"consume"${l}`;
    } else {
      text = head = `verdict ${v.kind}${at}`;
      json = jsonHead = `,${K_VERDICT}:${v.kind}${l}`;
    }
    return { kind: v.kind, reason: v.reason, locHi: v.locHi, text, json, place, why, head, jsonHead, next };
  }

  /** `dropped (NO_SOCKET) at __udp4_lib_rcv+0x5e1` or `consumed at X (meaning)`; with the record at
   * `off`, a drop's explanation has the facts its drop-facts part gives (explain/facts.ts). */
  text(v: VerdictFields, dv?: DataView, off?: number): string {
    const n = this.at(v);
    const why = dv && this.withFacts(n, dv, off!);
    return why ? `${n.head}: ${explanationText(why)}` : n.text;
  }

  /** `,"verdict":"drop","drop_reason":"NO_SOCKET","location":"..."` (and the explanation, as text()). */
  json(v: VerdictFields, dv?: DataView, off?: number): string {
    const n = this.at(v);
    const why = dv && this.withFacts(n, dv, off!);
    return why ? `${n.jsonHead},${K_EXPLANATION}:${explanationJson(why)}` : n.json;
  }

  /** The explanation of the record's drop with its facts, when its cause has facts and the record its
   * drop-facts part; else undefined (the verdict's own explanation stands). */
  whyAt(v: VerdictFields, dv: DataView, off: number): Explanation | undefined {
    return this.withFacts(this.at(v), dv, off);
  }

  private withFacts(n: Named, dv: DataView, off: number): Explanation | undefined {
    if (n.why === undefined || !HAS_FACTS.has(n.why.cause)) return undefined;
    const part = readDropFacts(dv, off);
    if (!part) return undefined;
    return { ...n.why, facts: dropFacts(n.why, part, this.namer.lookups) };
  }

  /** A drop's reason and function, `NO_SOCKET at __udp4_lib_rcv`, for the summary. */
  place(v: VerdictFields): string {
    return this.at(v).place;
  }

  /** The text without the drop's explanation: `dropped (NO_SOCKET) at __udp4_lib_rcv+0x5e1`. */
  head(v: VerdictFields): string {
    return this.at(v).head;
  }

  /** Why the packet was dropped (explain/), when its reason is known; undefined for other verdicts. */
  why(v: VerdictFields): Explanation | undefined {
    return this.at(v).why;
  }

  /** Whether a record's verdict is a drop that is a failure (not a benign one: explain/). */
  isFailedDrop(dv: DataView, off: number): boolean {
    const v = verdictOf(dv, off);
    return v !== undefined && v.kind === VERDICT_DROP && this.at(v).why?.failure !== false;
  }
}
