// What a tracing run (and --test, --gen) needs to know, as plain values: the command line builds it, and
// nothing below the command line sees the command line's own options.
import type { BackendName, OutputName, TracerName } from "../core/names.js";
import type { Layout } from "../output/layout.js";
import type { TimeMode } from "../output/time/time-column.js";
import type { StackMode } from "../program/extras.js";
import type { SelectorValues } from "../program/selection.js";

/** Where the module and dump() come from: a Lua script, or --capture expressions (not both). */
export interface ModuleSource {
  script?: string | undefined;
  capture?: string[] | undefined;
}

/** What packets to trace: the mark, the other selectors' values, and tracking. */
export interface Selection extends SelectorValues {
  mark: number;
  mask: number;
  /** false: the mark is not tested (a filter, the device or the namespace selects); default true. */
  markTest?: boolean;
  /** How the user named the network namespace (a name, a path or the number). */
  netns?: string;
  /** Follow a selected packet to its verdict (by skb address), in a table of trackMax packets. */
  track?: boolean;
  trackMax?: number;
}

export interface PlanChoice {
  regex?: RegExp | undefined;
  moduleRegex?: RegExp | undefined;
  backend?: BackendName | undefined;
  tracer: TracerName;
  /** Add the verdict tracepoints and record how packets end (default); false: ipftrace2's behaviour. */
  verdicts?: boolean | undefined;
}

export interface SessionConfig extends PlanChoice, Selection {
  module: ModuleSource;
  output: OutputName;
  /** --time: the first column of aggregate and stream. */
  time: TimeMode;
  /** --layout: ipft's additions, or ipftrace2's columns only. */
  layout: Layout;
  /** Write only the packets that were dropped. */
  dropsOnly: boolean;
  /** --drops: bytes of held events at most (undefined: the default). */
  dropsMemory?: number | undefined;
  /** Packet bytes per event (0: none) and where kernel stacks are taken (src/record/parts/: packet, stack). */
  snaplen: number;
  stack: StackMode;
  /** Each packet's identity (its first bytes and device, record/parts/identity.ts) at its first event and
   * printed by the writers; default true (--no-identity: false). */
  identity?: boolean | undefined;
  /** The identity read at every event of a tracked packet, not only where it may have changed. */
  identityEvery?: boolean | undefined;
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
  /** --nft-trace: the nftables rule that dropped a packet, through a trace table in this namespace (a path;
   * undefined: ipft's own). */
  /** --nft-trace: the namespace its table goes in (a path; undefined: ipft's) and how the user named it. */
  nftTrace?: { netnsPath?: string; netnsName?: string } | undefined;
}

export interface PcapngFileConfig {
  /** A path, or "-" for standard output (the text output then goes to stderr). */
  path: string;
  /** shb_userappl: "ipft VERSION". */
  userappl: string;
  /** The command line, kept in the file. */
  commandLine: string;
}

export const DEFAULT_RING_SIZE = 8 << 20;
export const DEFAULT_MAX_TRACES = 5_000_000;
