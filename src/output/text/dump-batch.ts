// Live writers (stream, json) with a dump(): lines wait, with their 64 data bytes, until the current batch of
// records is done (a microtask) or 4096 are pending, then dump() runs for all of them in one call (one
// crossing into Lua instead of one per event) and the lines go out in their order.
import { copyData, DATA_SIZE } from "../../record/record.js";
import type { DumpFormat } from "../types.js";
import type { BufferedSink } from "./buffered-sink.js";
import type { SafeDumper } from "./dump-text.js";

const MAX = 4096;

export class DumpBatch {
  private readonly records = new Uint8Array(MAX * DATA_SIZE);
  private prefixes: string[] = [];
  /** Text after each line (its stack), "" for most. */
  private suffixes: string[] = [];
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  /** `line(prefix, dumpText)` makes the whole line (newline included). */
  constructor(
    private readonly dumper: SafeDumper,
    private readonly format: DumpFormat,
    private readonly sink: BufferedSink,
    private readonly line: (prefix: string, dump: string) => string,
  ) {}

  add(prefix: string, dv: DataView, off: number, suffix = ""): void {
    copyData(dv, off, this.records, this.prefixes.length * DATA_SIZE);
    this.prefixes.push(prefix);
    this.suffixes.push(suffix);
    if (this.prefixes.length === MAX) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushLater);
    }
  }

  flush(): void {
    const n = this.prefixes.length;
    if (n === 0) return;
    const texts = this.dumper.many(this.records.subarray(0, n * DATA_SIZE), this.format);
    const prefixes = this.prefixes;
    const suffixes = this.suffixes;
    this.prefixes = [];
    this.suffixes = [];
    for (let i = 0; i < n; i++) this.sink.push(this.line(prefixes[i]!, texts[i] ?? "") + suffixes[i]!);
  }
}
