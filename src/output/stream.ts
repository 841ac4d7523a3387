// -o stream: one line per event as it arrives: `<packet id> 0x<skb> <timestamp> <cpu %03u> <module>
// <function>` (the packet id: output/packet/tracker.ts), then the verdict (`dropped ...`, `consumed ...`), on
// a clone event `clone of 0x<parent>` or at a delivery point `delivered ...`, then a space and the
// script's dump() text when there is one; a kernel stack (--stack) goes under the line.
import { isReturn, OFF_CPU, OFF_FUNC } from "../record/record.js";
import { ExtrasText } from "./extras-text.js";
import { type IdentityNotes, noteText } from "./identity-notes.js";
import { BufferedSink } from "./text/buffered-sink.js";
import { cloneText, parentHex } from "./text/clone-text.js";
import { cpu3 } from "./text/columns.js";
import { DumpBatch } from "./text/dump-batch.js";
import type { SafeDumper } from "./text/dump-text.js";
import { NameCache } from "./text/name-cache.js";
import { PacketPrefix } from "./text/packet-prefix.js";
import { timestampDecimal } from "./text/u64-text.js";
import type { SinceFirst } from "./time/since-first.js";
import type { TimeColumn } from "./time/time-column.js";
import type { Sink, Symbolizer, Writer } from "./types.js";
import { DELIVERED_TEXT, deliveryTexts, type VerdictText, verdictOf } from "./verdict-text.js";

/** One event's line without the dump text and newline (the pcapng writer's first comment too). */
export class StreamLines {
  private readonly names: NameCache;
  /** With verdicts: what an event at each function says without a verdict of its own ("" or delivered). */
  private readonly delivery: NameCache | undefined;
  private readonly prefix = new PacketPrefix((p, skb) => `${p} ${skb} `);

  constructor(
    symbolizer: Symbolizer,
    private readonly verdicts?: VerdictText,
    /** The stream output's time columns (the pcapng comment has neither). */
    private readonly time: StreamTime = {},
  ) {
    this.names = new NameCache(symbolizer, (s) => `${s.module} ${s.name}`);
    if (verdicts) this.delivery = deliveryTexts(symbolizer, DELIVERED_TEXT);
  }

  /** `MODULE FUNCTION` of the record's function. */
  func(dv: DataView, off: number): string {
    return this.names.get(dv, off + OFF_FUNC);
  }

  /** What follows the function: the verdict's text (`dropped (NO_SOCKET) at ...`), on a clone's event its
   * parent (`clone of 0x...`), at a delivery point `delivered (copied to user space)`; else "". */
  verdict(dv: DataView, off: number): string {
    const v = this.verdicts && verdictOf(dv, off);
    if (v) return this.verdicts!.text(v, dv, off);
    const parent = parentHex(dv, off);
    if (parent) return cloneText(parent);
    // A function_graph return: the call's entry said it already.
    return this.delivery && !isReturn(dv, off) ? this.delivery.get(dv, off + OFF_FUNC) : "";
  }

  /** The first column, and the time since the packet's first event when asked for. */
  private timeText(dv: DataView, off: number, packet: number): string {
    const t = this.time.column ? this.time.column.text(dv, off) : timestampDecimal(dv, off);
    return this.time.since ? `${t} ${this.time.since.text(dv, off, packet)}` : t;
  }

  /** `packet`: the event's packet id. The pcapng file writes the same parts as bytes (stream-bytes.ts). */
  line(dv: DataView, off: number, packet: number): string {
    const line = `${this.prefix.get(dv, off, packet)}${this.timeText(dv, off, packet)} ${cpu3(dv.getUint32(off + OFF_CPU, true))} ${this.func(dv, off)}`;
    const v = this.verdict(dv, off);
    return v ? `${line} ${v}` : line;
  }
}

/** The stream output's time columns. */
export interface StreamTime {
  /** The first column (--time); default nanoseconds since boot. */
  column?: TimeColumn | undefined;
  /** The time since the packet's first event after it (`+12.345us`). */
  since?: SinceFirst | undefined;
}

/** A line and the script's dump text as the stream output joins them. */
export const withDumpText = (line: string, text: string): string => (text ? `${line} ${text}` : line);

export class StreamWriter implements Writer {
  count = 0;
  readonly overflow = 0;
  private readonly sink: BufferedSink;
  private readonly lines: StreamLines;
  private readonly batch: DumpBatch | undefined;

  constructor(
    out: Sink,
    symbolizer: Symbolizer,
    dumper?: SafeDumper,
    verdicts?: VerdictText,
    private readonly extras = new ExtrasText(undefined),
    time: StreamTime = {},
    private readonly identity?: IdentityNotes,
  ) {
    this.sink = new BufferedSink(out, true);
    this.lines = new StreamLines(symbolizer, verdicts, time);
    if (dumper) this.batch = new DumpBatch(dumper, "text", this.sink, (p, t) => `${withDumpText(p, t)}\n`);
  }

  write(dv: DataView, off: number, packet: number): void {
    const line = this.withIdentity(this.lines.line(dv, off, packet), dv, off, packet);
    // The stack (--stack) goes under the line, after the script's text.
    const stack = this.extras.lines(dv, off);
    if (this.batch) this.batch.add(line, dv, off, stack);
    else this.sink.push(`${line}\n${stack}`);
    this.count++;
  }

  /** The packet's identity on its first line, a change of it where it changed (identity-notes.ts). */
  private withIdentity(line: string, dv: DataView, off: number, packet: number): string {
    const n = this.identity?.note(dv, off, packet);
    return n ? `${line} ${noteText(n)}` : line;
  }

  finish(): void {
    this.batch?.flush();
    this.sink.flush();
  }
}
