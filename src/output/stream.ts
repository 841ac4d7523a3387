// -o stream: one line per event as it arrives: `0x<skb> <timestamp> <cpu %03u> <module> <function>`, then
// a space and the script's dump() text when there is one.
import { copyData, DATA_SIZE, OFF_CPU, OFF_FUNC, skbHex, timestampDecimal } from "../events/record.js";
import { BufferedSink } from "./buffered-sink.js";
import { cpu3 } from "./columns.js";
import type { SafeDumper } from "./dump-text.js";
import { NameCache } from "./name-cache.js";
import type { Sink, Symbolizer, Writer } from "./types.js";

export class StreamWriter implements Writer {
  count = 0;
  readonly dropped = 0;
  private readonly sink: BufferedSink;
  private readonly names: NameCache;
  private readonly data = new Uint8Array(DATA_SIZE);

  constructor(
    out: Sink,
    symbolizer: Symbolizer,
    private readonly dumper?: SafeDumper,
  ) {
    this.sink = new BufferedSink(out, true);
    this.names = new NameCache(symbolizer, (s) => `${s.module} ${s.name}`);
  }

  write(dv: DataView, off: number): void {
    let line = `${skbHex(dv, off)} ${timestampDecimal(dv, off)} ${cpu3(dv.getUint32(off + OFF_CPU, true))} ${this.names.get(dv, off + OFF_FUNC)}`;
    if (this.dumper) {
      copyData(dv, off, this.data, 0);
      const t = this.dumper.one(this.data, "text");
      if (t) line += ` ${t}`;
    }
    this.sink.push(`${line}\n`);
    this.count++;
  }

  finish(): void {
    this.sink.flush();
  }
}
