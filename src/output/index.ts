// Output writers: aggregate (per packet, at the end), stream (per event), json (per event, one object a line).
import type { OutputName } from "../core/names.js";
import { AggregateWriter } from "./aggregate.js";
import { DropsOnly } from "./drops-only.js";
import { ExtrasText } from "./extras-text.js";
import { IdentityNotes } from "./identity-notes.js";
import { JsonWriter } from "./json.js";
import { type Layout, layoutColumns } from "./layout.js";
import { PacketLedger } from "./packet/ledger.js";
import { StepTimes } from "./packet/steps.js";
import type { PacketTracker } from "./packet/tracker.js";
import { StreamWriter } from "./stream.js";
import { SafeDumper } from "./text/dump-text.js";
import { SinceFirst } from "./time/since-first.js";
import type { TimeColumn } from "./time/time-column.js";
import type {
  DropDetails,
  Dumper,
  KernelPacketCounts,
  Sink,
  StackNamer,
  Symbolizer,
  VerdictNamer,
  Writer,
} from "./types.js";
import { VerdictText } from "./verdict-text.js";

export { AGGREGATE_HEADER, type AggregateOptions, AggregateWriter } from "./aggregate.js";
export { ExtrasText, hexOf } from "./extras-text.js";
export { JsonWriter } from "./json.js";
export { LAYOUTS, type Layout } from "./layout.js";
export { numbered, PacketTracker } from "./packet/tracker.js";
export { type FileInfo, PcapngOutput, type PcapngOutputOptions } from "./pcapng.js";
export { StreamWriter } from "./stream.js";
export { teeWriter } from "./tee.js";
export { dumpJson, dumpText, functionDumper, SafeDumper } from "./text/dump-text.js";
export { TIME_MODES, type TimeBase, TimeColumn, type TimeMode } from "./time/time-column.js";
export type {
  DropDetails,
  Dumper,
  DumpFormat,
  DumpResult,
  KernelPacketCounts,
  Sink,
  StackNamer,
  Symbol,
  Symbolizer,
  SymbolName,
  VerdictNamer,
  Writer,
} from "./types.js";
export { UNKNOWN } from "./types.js";
export type { OutputName };

export interface WriterOptions {
  /** Default process.stdout. */
  out?: Sink;
  symbolizer: Symbolizer;
  /** The script's dump(), when it has one. */
  dumper?: Dumper;
  /** aggregate: store at most this many traces. */
  maxTraces?: number;
  /** function_graph: aggregate indents calls. */
  graph?: boolean;
  /** aggregate's progress line and cap notice (default process.stderr). */
  err?: Sink;
  /** aggregate: show `Got N traces` (default: when err is a TTY). */
  progress?: boolean;
  /** Names for verdicts: with it, packets end with their verdict and a summary is kept. */
  verdicts?: VerdictNamer;
  /** --drops: only packets that were dropped are written (needs `verdicts`). */
  dropsOnly?: boolean;
  /** --drops: bytes of held events at most (default MAX_HELD_BYTES). */
  dropsMemory?: number;
  /** Facts about single drops learned apart from their records (--nft-trace). */
  dropDetails?: DropDetails;
  /** Names for the frames of --stack's stacks (hex without it). */
  stacks?: StackNamer;
  /** With tracking: the kernel's packet counts, read once for the summary (no per-event bookkeeping). */
  kernelCounts?: () => KernelPacketCounts;
  /** The tracker that numbers the events just before each is written (numbered()): the summary and
   * --drops read what it says of each event instead of tracking the events again. */
  numbering?: PacketTracker;
  /** false: no packet identity in the output (ipftrace2's layout); default true. */
  identity?: boolean;
  /** --layout: the defaults of the options below (layout.ts). */
  layout?: Layout;
  /** --time: the first column (aggregate, stream) and json's "wall_time"; default nanoseconds since boot
   * and no wall_time. */
  time?: TimeColumn;
  /** Each event's time since its packet's first event (aggregate, stream). */
  elapsed?: boolean;
  /** json: "wall_time" (needs `time`). */
  wallTime?: boolean;
  /** The summary names the slowest steps between attach points. */
  steps?: boolean;
}

export interface CreatedWriter extends Writer {
  /** Reports dump() failures (once, with their count). */
  report(err: Sink): void;
  /** Events handed to write(), whatever was printed of them. */
  readonly events: number;
  /** The packets and how they ended (empty without verdicts), and notices about them. */
  summary(): string[];
}

export function createWriter(kind: OutputName, o: WriterOptions): CreatedWriter {
  const out = o.out ?? process.stdout;
  const dumper = o.dumper ? new SafeDumper(o.dumper) : undefined;
  const verdicts = o.verdicts ? new VerdictText(o.verdicts, o.dropDetails) : undefined;
  const ledger = verdicts ? new PacketLedger(verdicts, undefined, o.numbering) : undefined;
  const counted = o.kernelCounts !== undefined;
  const extras = new ExtrasText(o.stacks);
  const cols = layoutColumns(o.layout);
  const elapsed = o.elapsed ?? cols.elapsed;
  const steps = (o.steps ?? cols.steps) ? new StepTimes() : undefined;
  const identity = (o.identity ?? cols.identity) ? new IdentityNotes() : undefined;
  let w: Writer;
  if (kind === "stream")
    w = new StreamWriter(
      out,
      o.symbolizer,
      dumper,
      verdicts,
      extras,
      { column: o.time, since: elapsed ? new SinceFirst() : undefined },
      identity,
    );
  else if (kind === "json")
    w = new JsonWriter(
      out,
      o.symbolizer,
      dumper,
      verdicts,
      extras,
      (o.wallTime ?? cols.wallTime) ? o.time : undefined,
      identity,
    );
  else {
    w = new AggregateWriter(
      out,
      o.symbolizer,
      dumper,
      {
        ...(o.maxTraces !== undefined ? { maxTraces: o.maxTraces } : {}),
        ...(o.graph !== undefined ? { graph: o.graph } : {}),
        ...(o.err ? { err: o.err } : {}),
        ...(o.progress !== undefined ? { progress: o.progress } : {}),
        ...(identity ? { identity } : {}),
        ...(o.time ? { time: o.time } : {}),
        elapsed,
      },
      verdicts,
      extras,
    );
  }
  const drops = o.dropsOnly ? new DropsOnly(w, o.dropsMemory, undefined, o.numbering) : undefined;
  if (drops && verdicts) drops.isFailure = (dv, off) => verdicts.isFailedDrop(dv, off);
  const target = drops ?? w;
  let events = 0;
  return {
    write: ledger
      ? (dv: DataView, off: number, packet: number) => {
          events++;
          if (counted) ledger.verdictOnly(dv, off);
          else ledger.event(dv, off);
          steps?.event(dv, off, packet);
          target.write(dv, off, packet);
        }
      : steps
        ? (dv: DataView, off: number, packet: number) => {
            events++;
            steps.event(dv, off, packet);
            target.write(dv, off, packet);
          }
        : (dv: DataView, off: number, packet: number) => {
            events++;
            target.write(dv, off, packet);
          },
    get events() {
      return events;
    },
    finish: () => target.finish(),
    get count() {
      return target.count;
    },
    get overflow() {
      return target.overflow;
    },
    report: (err: Sink) => dumper?.report(err),
    summary: () => {
      const lines = [
        ...(ledger?.summary(o.symbolizer, o.kernelCounts?.()) ?? []),
        ...(steps?.summary(o.symbolizer) ?? []),
      ];
      const n = drops?.notice();
      return n ? [...lines, n] : lines;
    },
  };
}
