// Captured bytes back into labelled values, for the writers: text `( len: 142 dev: lo )` and JSON typed
// values (numbers as numbers, exact beyond 2^53; null for a field that could not be read).
import type { Dumper, DumpFormat, DumpResult } from "../output/types.js";
import type { CompiledCapture } from "./compile.js";
import { type CaptureValue, decodeValue } from "./formats.js";

export function decodeCapture(cap: CompiledCapture, data: Uint8Array): [string, CaptureValue][] {
  return cap.fields.map((f) => {
    const read = (data[f.bit >> 3]! >> (f.bit & 7)) & 1;
    return [f.label, read ? decodeValue(f.decoding, data, f.offset) : null];
  });
}

function textOf(v: CaptureValue): string {
  return v === null ? "null" : String(v);
}

function jsonOf(v: CaptureValue): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v);
}

export function captureDumper(cap: CompiledCapture): Dumper {
  const keys = cap.fields.map((f) => JSON.stringify(f.label));
  return {
    dump(data: Uint8Array): DumpResult {
      const out: Record<string, string | number | boolean> = {};
      for (const [k, v] of decodeCapture(cap, data))
        out[k] = v === null ? "null" : typeof v === "bigint" ? v.toString() : v;
      return out;
    },
    dumpFormatted(data: Uint8Array, format: DumpFormat): string {
      const vals = decodeCapture(cap, data);
      if (format === "json") {
        let s = "";
        for (let i = 0; i < vals.length; i++) s += `,${keys[i]}:${jsonOf(vals[i]![1])}`;
        return s;
      }
      let s = "( ";
      for (const [k, v] of vals) s += `${k}: ${textOf(v)} `;
      return `${s})`;
    },
  };
}
