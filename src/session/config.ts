// What a tracing run (and --test, --gen) needs to know, as plain values: the command line builds it, and
// nothing below the command line sees the command line's own options.
import type { BackendName, OutputName, TracerName } from "../core/names.js";

/** Where the module and dump() come from: a Lua script, or --capture expressions (not both). */
export interface ModuleSource {
  script?: string | undefined;
  capture?: string[] | undefined;
}

export interface Selection {
  mark: number;
  mask: number;
}

export interface PlanChoice {
  regex?: RegExp | undefined;
  moduleRegex?: RegExp | undefined;
  backend?: BackendName | undefined;
  tracer: TracerName;
}

export interface SessionConfig extends PlanChoice, Selection {
  module: ModuleSource;
  output: OutputName;
  /** Write only the packets that were dropped. */
  dropsOnly: boolean;
  /** Ring buffer bytes, a power of two. */
  ringSize: number;
  /** Aggregate output stores at most this many traces. */
  maxTraces: number;
  readyFile?: string | undefined;
  /** Run this while tracing; stop when it exits (empty: trace until a signal). */
  command: string[];
  verbose: boolean;
  /** -w: the pcapng file too. */
  pcapng?: PcapngFileConfig | undefined;
}

export interface PcapngFileConfig {
  /** A path, or "-" for standard output (the text output then goes to stderr). */
  path: string;
  /** shb_userappl: "ipft VERSION". */
  userappl: string;
  /** The command line, kept in the file. */
  commandLine: string;
  /** Bytes of each packet kept (0 or undefined: all). */
  snaplen?: number | undefined;
}

export const DEFAULT_RING_SIZE = 8 << 20;
export const DEFAULT_MAX_TRACES = 5_000_000;
