// -o stream: one line per event as it arrives: `0x<skb> <timestamp> <cpu %03u> <module> <function>`, then
// a space and the script's dump() text when there is one.
import { OFF_CPU, OFF_FUNC } from "../record/record.js";
import { BufferedSink } from "./buffered-sink.js";
import { cpu3 } from "./columns.js";
import { DumpBatch } from "./dump-batch.js";
import type { SafeDumper } from "./dump-text.js";
import { ExtrasText } from "./extras-text.js";
import { NameCache } from "./name-cache.js";
import type { Sink, Symbolizer, Writer } from "./types.js";
import { skbHex, timestampDecimal } from "./u64-text.js";
import { type VerdictText, verdictOf } from "./verdict-text.js";

export class StreamWriter implements Writer {
  count = 0;
  readonly dropped = 0;
  private readonly sink: BufferedSink;
  private readonly names: NameCache;
  private readonly batch: DumpBatch | undefined;

  constructor(
    out: Sink,
    symbolizer: Symbolizer,
    dumper?: SafeDumper,
    private readonly verdicts?: VerdictText,
    private readonly extras = new ExtrasText(undefined),
  ) {
    this.sink = new BufferedSink(out, true);
    this.names = new NameCache(symbolizer, (s) => `${s.module} ${s.name}`);
    if (dumper)
      this.batch = new DumpBatch(dumper, "text", this.sink, (p, t) => (t ? `${p} ${t}\n` : `${p}\n`));
  }

  write(dv: DataView, off: number): void {
    let line = `${skbHex(dv, off)} ${timestampDecimal(dv, off)} ${cpu3(dv.getUint32(off + OFF_CPU, true))} ${this.names.get(dv, off + OFF_FUNC)}`;
    const v = this.verdicts && verdictOf(dv, off);
    if (v) line += ` ${this.verdicts!.text(v)}`;
    // The stack (--stack) goes under the line, after the script's text.
    const stack = this.extras.stackLines(dv, off);
    if (this.batch) this.batch.add(line, dv, off, stack);
    else this.sink.push(`${line}\n${stack}`);
    this.count++;
  }

  finish(): void {
    this.batch?.flush();
    this.sink.flush();
  }
}
