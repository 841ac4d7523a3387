// -o json: one object per line with ipftrace2's keys; timestamps are written from the 64-bit value itself.
import {
  FLAG_RETURN,
  OFF_CPU,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_SKB,
  OFF_TSTAMP,
  readData,
} from "../events/record.js";
import { BufferedSink } from "./buffered-sink.js";
import type { SafeDumper } from "./dump-text.js";
import { type Sink, type Symbolizer, UNKNOWN, type Writer } from "./types.js";

export class JsonWriter implements Writer {
  count = 0;
  readonly dropped = 0;
  private readonly sink: BufferedSink;
  /** JSON-escaped "module":..,"function":.. per symbol, built once. */
  private readonly names = new Map<bigint, string>();

  constructor(
    out: Sink,
    private readonly symbolizer: Symbolizer,
    private readonly dumper?: SafeDumper,
  ) {
    this.sink = new BufferedSink(out);
  }

  private nameFields(addr: bigint): string {
    let s = this.names.get(addr);
    if (s === undefined) {
      const sym = this.symbolizer.resolve(addr) ?? UNKNOWN;
      s = `"module":${JSON.stringify(sym.module)},"function":${JSON.stringify(sym.name)}`;
      this.names.set(addr, s);
    }
    return s;
  }

  write(dv: DataView, off: number): void {
    const ret = (dv.getUint32(off + OFF_FLAGS, true) & FLAG_RETURN) !== 0;
    let line = `{"packet_id":"0x${dv.getBigUint64(off + OFF_SKB, true).toString(16)}","timestamp":${dv.getBigUint64(off + OFF_TSTAMP, true)},"processor_id":${dv.getUint32(off + OFF_CPU, true)},${this.nameFields(dv.getBigUint64(off + OFF_FUNC, true))},"is_return":${ret}`;
    if (this.dumper) line += this.dumper.one(readData(dv, off), "json");
    this.sink.push(`${line}}\n`);
    this.count++;
  }

  finish(): void {
    this.sink.flush();
  }
}
