// -o json: one object per line with ipftrace2's keys (but packet_id, a number: output/packet/tracker.ts; the
// skb's address is "skb"), then the script's keys:
//   {"packet_id":N,"skb":"0x..","timestamp":N,"processor_id":N,"module":"..","function":"..","is_return":false}
// then the verdict's keys, or on a clone event "parent" (the address of the packet it was made from), or
// at a delivery point "delivered":true.
// The timestamp is written from the 64-bit value's own digits, never through a double.
import { FIELDS, isReturn, OFF_FUNC, PACKET_ID_JSON, readCpu } from "../record/record.js";
import { ExtrasText } from "./extras-text.js";
import { type IdentityNotes, noteJson } from "./identity-notes.js";
import { BufferedSink } from "./text/buffered-sink.js";
import { cloneJson, parentHex } from "./text/clone-text.js";
import { DumpBatch } from "./text/dump-batch.js";
import type { SafeDumper } from "./text/dump-text.js";
import { NameCache } from "./text/name-cache.js";
import { PacketPrefix } from "./text/packet-prefix.js";
import { timestampDecimal } from "./text/u64-text.js";
import { wallTimeJson } from "./time/json-time.js";
import type { TimeColumn } from "./time/time-column.js";
import type { Sink, Symbolizer, Writer } from "./types.js";
import { DELIVERED_JSON, deliveryTexts, type VerdictText, verdictOf } from "./verdict-text.js";

// Each key's text, made once from the record's definition.
const K = (keys: readonly string[]) => keys.map((k) => JSON.stringify(k));
const [K_PACKET] = K([PACKET_ID_JSON]);
const [K_SKB] = K(FIELDS.skb.json);
const [K_TS] = K(FIELDS.tstamp.json);
const [K_CPU] = K(FIELDS.cpu.json);
const [K_MODULE, K_FUNCTION] = K(FIELDS.func.json);
const [K_RETURN] = K(FIELDS.flags.json);

/** One event's object without the script's keys and the closing brace (the pcapng writer's "ipft:"
 * comment too). */
export class JsonLines {
  /** `"module":..,"function":..` per address, escaped once. */
  private readonly names: NameCache;
  private readonly prefix = new PacketPrefix((p, skb) => `{${K_PACKET}:${p},${K_SKB}:"${skb}",${K_TS}:`);

  /** With verdicts: the key an event at each function adds without a verdict of its own ("" or delivered). */
  private readonly delivery: NameCache | undefined;

  constructor(
    symbolizer: Symbolizer,
    private readonly verdicts?: VerdictText,
    /** Without it, no extras keys (the pcapng comment: its block holds the packet's bytes). */
    private readonly extras?: ExtrasText,
    /** Adds "wall_time" (json-time.ts); without it, none (the pcapng comment, ipftrace2's layout). */
    private readonly wall?: TimeColumn,
  ) {
    if (verdicts) this.delivery = deliveryTexts(symbolizer, DELIVERED_JSON);
    this.names = new NameCache(
      symbolizer,
      (s) => `${K_MODULE}:${JSON.stringify(s.module)},${K_FUNCTION}:${JSON.stringify(s.name)}`,
    );
  }

  /** `packet`: the event's packet id. */
  line(dv: DataView, off: number, packet: number): string {
    const ret = isReturn(dv, off);
    let line = `${this.prefix.get(dv, off, packet)}${timestampDecimal(dv, off)},${K_CPU}:${readCpu(dv, off)},${this.names.get(dv, off + OFF_FUNC)},${K_RETURN}:${ret}`;
    if (this.wall) line += wallTimeJson(this.wall, dv, off);
    const v = this.verdicts && verdictOf(dv, off);
    if (v) line += this.verdicts!.json(v, dv, off);
    else {
      const parent = parentHex(dv, off);
      if (parent) line += cloneJson(parent);
      else if (this.delivery && !ret) line += this.delivery.get(dv, off + OFF_FUNC);
    }
    return this.extras ? line + this.extras.json(dv, off) : line;
  }
}

export class JsonWriter implements Writer {
  count = 0;
  readonly overflow = 0;
  private readonly sink: BufferedSink;
  private readonly lines: JsonLines;
  private readonly batch: DumpBatch | undefined;

  constructor(
    out: Sink,
    symbolizer: Symbolizer,
    dumper?: SafeDumper,
    verdicts?: VerdictText,
    extras = new ExtrasText(undefined),
    wall?: TimeColumn,
    private readonly identity?: IdentityNotes,
  ) {
    this.sink = new BufferedSink(out, true);
    this.lines = new JsonLines(symbolizer, verdicts, extras, wall);
    if (dumper) this.batch = new DumpBatch(dumper, "json", this.sink, (p, t) => `${p}${t}}\n`);
  }

  write(dv: DataView, off: number, packet: number): void {
    const line = this.withIdentity(this.lines.line(dv, off, packet), dv, off, packet);
    if (this.batch) this.batch.add(line, dv, off);
    else this.sink.push(`${line}}\n`);
    this.count++;
  }

  /** `"identity"` and `"packet_identity"` on the packet's first event, `"changed"` where it changed
   * (identity-notes.ts). */
  private withIdentity(line: string, dv: DataView, off: number, packet: number): string {
    const n = this.identity?.note(dv, off, packet);
    return n ? line + noteJson(n) : line;
  }

  finish(): void {
    this.batch?.flush();
    this.sink.flush();
  }
}
