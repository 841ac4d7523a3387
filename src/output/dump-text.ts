// The script's dump() result as text or JSON keys. A dump() that throws costs only its own trace's extra
// text: failures are counted and reported once at the end.
import type { Dumper, DumpResult, Sink } from "./types.js";

export class SafeDumper {
  failures = 0;
  private first = "";

  constructor(private readonly dumper: Dumper) {}

  dump(data: Uint8Array): DumpResult {
    try {
      return this.dumper.dump(data);
    } catch (e) {
      if (this.failures++ === 0) this.first = (e as Error).message.split("\n")[0]!;
      return undefined;
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
