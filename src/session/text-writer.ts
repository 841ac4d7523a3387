// The text output's writer (aggregate, stream or json) as a trace and --read make it: the same settings
// from the command line, the names from the kernel or from the trace file.
import {
  type CreatedWriter,
  createWriter,
  type DropDetails,
  type Dumper,
  type KernelPacketCounts,
  type PacketTracker,
  type Sink,
  type StackNamer,
  type Symbolizer,
  type TimeBase,
  TimeColumn,
  type VerdictNamer,
} from "../output/index.js";
import { MonotonicClock } from "../pcapng/clock.js";
import type { SessionConfig } from "./config.js";

/** graph: the run's tracer was function_graph (aggregate indents calls). */
export type TextSettings = Pick<
  SessionConfig,
  "output" | "maxTraces" | "dropsOnly" | "dropsMemory" | "identity" | "time" | "layout"
> & {
  graph: boolean;
};

export interface TextNames {
  symbolizer: Symbolizer;
  dumper?: Dumper | undefined;
  /** Absent: packets are not followed to their verdict (--no-verdicts). */
  verdicts?: VerdictNamer | undefined;
  stacks?: StackNamer | undefined;
  /** A drop's own facts (--nft-trace). */
  dropDetails?: DropDetails | undefined;
}

export function createTextWriter(
  s: TextSettings,
  names: TextNames,
  sinks: { out: Sink; err: Sink; progress: boolean },
  kernelCounts?: () => KernelPacketCounts,
  /** The run's packet tracker, when the session numbers events as it reads the ring (else the writer has its own). */
  numbering?: PacketTracker,
  /** The clock of --read's file; default the running system's, tracing starting now. */
  clock: TimeBase = liveClock(),
): CreatedWriter {
  return createWriter(s.output, {
    time: new TimeColumn(s.time, clock),
    layout: s.layout,
    ...sinks,
    symbolizer: names.symbolizer,
    ...(names.dumper ? { dumper: names.dumper } : {}),
    maxTraces: s.maxTraces,
    graph: s.graph,
    ...(names.verdicts ? { verdicts: names.verdicts } : {}),
    dropsOnly: s.dropsOnly,
    ...(s.dropsMemory !== undefined ? { dropsMemory: s.dropsMemory } : {}),
    ...(names.stacks ? { stacks: names.stacks } : {}),
    ...(names.dropDetails ? { dropDetails: names.dropDetails } : {}),
    ...(kernelCounts ? { kernelCounts } : {}),
    ...(numbering ? { numbering } : {}),
    ...(s.identity === false ? { identity: false } : {}),
  });
}

/** Tracing starts now; the wall clock's offset is `offsetNs` (-w's file's), else measured when first
 * needed (--time wall, json). */
export const liveClock = (offsetNs?: bigint): TimeBase => ({
  startNs: process.hrtime.bigint(),
  offsetNs: offsetNs ?? (() => MonotonicClock.measure().offset.offsetNs),
});
