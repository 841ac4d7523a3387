// Output writers: aggregate (per packet, at the end), stream (per event), json (per event, one object a line).
import { AggregateWriter } from "./aggregate.js";
import { SafeDumper } from "./dump-text.js";
import { JsonWriter } from "./json.js";
import { StreamWriter } from "./stream.js";
import type { Dumper, Sink, Symbolizer, Writer } from "./types.js";

export { AGGREGATE_HEADER, AggregateWriter } from "./aggregate.js";
export { dumpJson, dumpText, functionDumper, SafeDumper } from "./dump-text.js";
export { JsonWriter } from "./json.js";
export { StreamWriter } from "./stream.js";
export type { Dumper, DumpFormat, DumpResult, Sink, Symbolizer, SymbolName, Writer } from "./types.js";

export interface WriterOptions {
  out: Sink;
  symbolizer: Symbolizer;
  dumper?: Dumper;
  maxTraces?: number;
  /** function_graph: aggregate output indents calls. */
  graph?: boolean;
  err?: Sink;
  progress?: boolean;
}

export interface CreatedWriter extends Writer {
  /** Reports dump() failures (once, with their count). */
  report(err: Sink): void;
}

export function createWriter(kind: "aggregate" | "stream" | "json", o: WriterOptions): CreatedWriter {
  const dumper = o.dumper ? new SafeDumper(o.dumper) : undefined;
  let w: Writer;
  if (kind === "stream") w = new StreamWriter(o.out, o.symbolizer, dumper);
  else if (kind === "json") w = new JsonWriter(o.out, o.symbolizer, dumper);
  else {
    w = new AggregateWriter(o.out, o.symbolizer, dumper, {
      maxTraces: o.maxTraces ?? Number.POSITIVE_INFINITY,
      graph: o.graph ?? false,
      ...(o.err ? { err: o.err } : {}),
      ...(o.progress !== undefined ? { progress: o.progress } : {}),
    });
  }
  return Object.assign(w, { report: (err: Sink) => dumper?.report(err) });
}
