// What the writers need from the rest of ipft: names for function addresses, the script's dump(), a sink.
export interface SymbolName {
  name: string;
  module: string;
}

export interface Symbolizer {
  resolve(addr: bigint): SymbolName | undefined;
}

export type DumpResult = string | Record<string, string | number | boolean> | undefined;
export type DumpFormat = "text" | "json";

/** The script's dump(), already formatted: text (`( k: v )` or the string) or a JSON fragment (`,"k":v`). */
export interface Dumper {
  dumpFormatted(data: Uint8Array, format: DumpFormat): string;
  /** Many 64-byte records at once (faster); an Error in place of each failed one. */
  dumpFormattedMany?(records: Uint8Array, format: DumpFormat): (string | Error)[];
}

export interface Sink {
  write(s: string): unknown;
}

export interface Writer {
  /** One record at `off` in `dv`. */
  write(dv: DataView, off: number): void;
  /** Flushes (aggregate: prints everything). */
  finish(): void;
  /** Traces written (stream, json) or stored (aggregate). */
  readonly count: number;
  /** Traces not stored because of --max-traces. */
  readonly dropped: number;
}

export const UNKNOWN: SymbolName = { name: "(unknown)", module: "(unknown)" };
