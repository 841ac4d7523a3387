import type { Explanation } from "../explain/explanation.js";
// What the writers need from the rest of ipft: names for function addresses, the script's dump(), a sink.
import type { SystemLookups } from "../explain/system-facts.js";

export interface SymbolName {
  name: string;
  module: string;
}
export type { SymbolName as Symbol };

/** Names a record's function field. `undefined` when unknown: the writers then print UNKNOWN, as
 * ipftrace2 does ("(unknown)" for both the function and the module). */
export interface Symbolizer {
  resolve(addr: bigint): SymbolName | undefined;
}

/** Names for a verdict's fields, from the running kernel. */
export interface VerdictNamer {
  /** A drop reason's name without SKB_DROP_REASON_ (`NO_SOCKET`), or its number when unknown. */
  reason(value: number): string;
  /** A code address as `function+0xoffset`, or hex when unknown. */
  location(addr: bigint): string;
  /** A live trace's look-ups of what stays in the system (sysctls, routes) for drops' facts; none when
   * a trace file is read back (they would be this machine's now, not the trace's). */
  readonly lookups?: SystemLookups;
}

/** Names a kernel code address for a stack frame: `function+0xoffset` (` [module]` outside vmlinux), or
 * hex when unknown. */
export interface StackNamer {
  frame(addr: bigint): string;
}

export type DumpResult = string | Record<string, string | number | boolean> | undefined;
export type DumpFormat = "text" | "json";

/** The script's dump(). `data` is only valid during the call (the writers reuse its buffer).
 * A dumper may also offer its results already formatted (the Lua runtime does, in one crossing for many
 * records): the writers use those when present. */
export interface Dumper {
  dump(data: Uint8Array): DumpResult;
  /** Text (`( k: v )` or the string) or a JSON fragment (`,"k":v`), as dumpText/dumpJson make them. */
  dumpFormatted?(data: Uint8Array, format: DumpFormat): string;
  /** Many 64-byte records laid end to end; an Error in place of each failed one. */
  dumpFormattedMany?(records: Uint8Array, format: DumpFormat): (string | Error)[];
}

export interface Sink {
  write(s: string): unknown;
}

export interface Writer {
  /** One record at `offset` in `view`, of the packet numbered `packet` (output/packet/tracker.ts); the
   * record may be overwritten once this returns. */
  write(view: DataView, offset: number, packet: number): void;
  /** Writes what is buffered (aggregate: prints everything). */
  finish(): void;
  /** Traces written (stream, json) or stored (aggregate). */
  readonly count: number;
  /** Traces not stored because of the maxTraces cap (aggregate only): the overflow, not packets the kernel
   * dropped. */
  readonly overflow: number;
}

/** Facts about one drop learned apart from its record (--nft-trace: the nftables rule that dropped it), found
 * by the drop event's timestamp (its two 32-bit halves): the drop's closer explanation and summary key. */
export interface DropDetails {
  get(tsHi: number, tsLo: number): { why: Explanation; place: string } | undefined;
}

export const UNKNOWN: SymbolName = { name: "(unknown)", module: "(unknown)" };

/** What the kernel counted of the packets, with tracking on (session/track-table.ts): how many were
 * selected, and where those that ended without a verdict were last seen (function address -> packets). */
export interface KernelPacketCounts {
  seen: number;
  lastSeen: Map<bigint, number>;
}
