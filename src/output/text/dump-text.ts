// The script's dump() output for the writers. A dump() that throws costs only its own trace's extra text:
// failures are counted and reported once at the end.
import { DATA_SIZE } from "../../record/record.js";
import type { Dumper, DumpFormat, DumpResult, Sink } from "../types.js";

export class SafeDumper {
  failures = 0;
  private first = "";

  constructor(private readonly dumper: Dumper) {}

  private failed(e: unknown, n = 1): string {
    if (this.failures === 0) this.first = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
    this.failures += n;
    return "";
  }

  one(data: Uint8Array, format: DumpFormat): string {
    const d = this.dumper;
    try {
      if (d.dumpFormatted) return d.dumpFormatted(data, format);
      const r = d.dump(data);
      return format === "json" ? dumpJson(r) : dumpText(r);
    } catch (e) {
      return this.failed(e);
    }
  }

  /** Records of DATA_SIZE (64) bytes laid end to end. */
  many(records: Uint8Array, format: DumpFormat): string[] {
    const n = records.length / DATA_SIZE;
    if (!this.dumper.dumpFormattedMany) {
      return Array.from({ length: n }, (_, i) =>
        this.one(records.subarray(i * DATA_SIZE, (i + 1) * DATA_SIZE), format),
      );
    }
    try {
      return this.dumper
        .dumpFormattedMany(records, format)
        .map((r) => (r instanceof Error ? this.failed(r) : r));
    } catch (e) {
      return new Array<string>(n).fill(this.failed(e, n));
    }
  }

  report(err: Sink): void {
    if (this.failures > 0)
      err.write(
        `ipft: dump() failed on ${this.failures} trace${this.failures > 1 ? "s" : ""}; first error: ${this.first}\n`,
      );
  }
}

/** Text form: a string as is, a table as `( k: v k2: v2 )` (ipftrace2's aggregate form), nil as nothing. */
export function dumpText(r: DumpResult): string {
  if (r === undefined || r === "") return "";
  if (typeof r === "string") return r;
  let s = "( ";
  for (const k of Object.keys(r)) s += `${k}: ${String(r[k])} `;
  return `${s})`;
}

/** JSON form: the table's keys after the fixed ones, as ipftrace2 does. ipftrace2 writes every value as a
 * JSON string; we keep numbers and booleans typed (as the Lua runtime does). A string result, which
 * ipftrace2's latest scripts cannot return, goes under "data". */
export function dumpJson(r: DumpResult): string {
  if (r === undefined || r === "") return "";
  if (typeof r === "string") return `,"data":${JSON.stringify(r)}`;
  let s = "";
  for (const k of Object.keys(r)) s += `,${JSON.stringify(k)}:${JSON.stringify(r[k])}`;
  return s;
}

/** A Dumper from a plain function. */
export function functionDumper(fn: (data: Uint8Array) => DumpResult): Dumper {
  return { dump: fn };
}
