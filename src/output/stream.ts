// -o stream: one line per event as it arrives: `0x<skb> <timestamp> <cpu> <module> <function>[ <dump>]`.
import { OFF_CPU, OFF_FUNC, OFF_SKB, OFF_TSTAMP, readData } from "../events/record.js";
import { BufferedSink } from "./buffered-sink.js";
import type { SafeDumper } from "./dump-text.js";
import { type Sink, type Symbolizer, UNKNOWN, type Writer } from "./types.js";

export function cpu3(cpu: number): string {
  return cpu < 10 ? `00${cpu}` : cpu < 100 ? `0${cpu}` : `${cpu}`;
}

export class StreamWriter implements Writer {
  count = 0;
  readonly dropped = 0;
  private readonly sink: BufferedSink;

  constructor(
    out: Sink,
    private readonly symbolizer: Symbolizer,
    private readonly dumper?: SafeDumper,
  ) {
    this.sink = new BufferedSink(out);
  }

  write(dv: DataView, off: number): void {
    const sym = this.symbolizer.resolve(dv.getBigUint64(off + OFF_FUNC, true)) ?? UNKNOWN;
    let line = `0x${dv.getBigUint64(off + OFF_SKB, true).toString(16)} ${dv.getBigUint64(off + OFF_TSTAMP, true)} ${cpu3(dv.getUint32(off + OFF_CPU, true))} ${sym.module} ${sym.name}`;
    if (this.dumper) {
      const t = this.dumper.one(readData(dv, off), "text");
      if (t) line += ` ${t}`;
    }
    this.sink.push(`${line}\n`);
    this.count++;
  }

  finish(): void {
    this.sink.flush();
  }
}
