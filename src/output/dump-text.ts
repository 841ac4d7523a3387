// The script's dump() output for the writers. A dump() that throws costs only its own trace's extra text:
// failures are counted and reported once at the end.
import type { Dumper, DumpFormat, DumpResult, Sink } from "./types.js";

export class SafeDumper {
  failures = 0;
  private first = "";

  constructor(private readonly dumper: Dumper) {}

  private failed(e: unknown): string {
    if (this.failures++ === 0) this.first = (e as Error).message.split("\n")[0]!;
    return "";
  }

  one(data: Uint8Array, format: DumpFormat): string {
    try {
      return this.dumper.dumpFormatted(data, format);
    } catch (e) {
      return this.failed(e);
    }
  }

  /** Records of 64 bytes laid end to end. */
  many(records: Uint8Array, format: DumpFormat): string[] {
    const n = records.length / 64;
    if (!this.dumper.dumpFormattedMany) {
      return Array.from({ length: n }, (_, i) => this.one(records.subarray(i * 64, i * 64 + 64), format));
    }
    try {
      return this.dumper
        .dumpFormattedMany(records, format)
        .map((r) => (r instanceof Error ? this.failed(r) : r));
    } catch (e) {
      return new Array<string>(n).fill(this.failed(e));
    }
  }

  report(err: Sink): void {
    if (this.failures > 0)
      err.write(
        `ipft: dump() failed on ${this.failures} trace${this.failures > 1 ? "s" : ""}; first error: ${this.first}\n`,
      );
  }
}

/** Text form: a string as is, a table as `( k: v k2: v2 )`. */
export function dumpText(r: DumpResult): string {
  if (r === undefined || r === "") return "";
  if (typeof r === "string") return r;
  let s = "( ";
  for (const k of Object.keys(r)) s += `${k}: ${String(r[k])} `;
  return `${s})`;
}

/** JSON form: extra keys after the fixed ones; a string result goes under "data". */
export function dumpJson(r: DumpResult): string {
  if (r === undefined || r === "") return "";
  if (typeof r === "string") return `,"data":${JSON.stringify(r)}`;
  let s = "";
  for (const k of Object.keys(r)) s += `,${JSON.stringify(k)}:${JSON.stringify(r[k])}`;
  return s;
}

/** A Dumper from a plain function (dump() results formatted here, the way the Lua runtime formats them). */
export function functionDumper(fn: (data: Uint8Array) => DumpResult): Dumper {
  return { dumpFormatted: (data, format) => (format === "json" ? dumpJson(fn(data)) : dumpText(fn(data))) };
}
