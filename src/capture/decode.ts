// Captured bytes back into labelled values, for the writers: text `( len: 142 dev: lo )` and JSON typed
// values (numbers as numbers, exact beyond 2^53; null for a field that could not be read).
import type { Dumper, DumpFormat, DumpResult } from "../output/types.js";
import type { CompiledCapture } from "./compile.js";
import { type CaptureValue, fieldDecoder } from "./formats.js";

type FieldReader = (data: Uint8Array) => CaptureValue;
const readers = new WeakMap<CompiledCapture, FieldReader[]>();

/** Per field: its value from the 64 bytes, or null when its bit in the bitmap is clear. */
function readersOf(cap: CompiledCapture): FieldReader[] {
  let rs = readers.get(cap);
  if (!rs) {
    rs = cap.fields.map((f) => {
      const decode = fieldDecoder(f.decoding);
      const byte = f.bit >> 3;
      const bit = 1 << (f.bit & 7);
      return (data: Uint8Array) => (data[byte]! & bit ? decode(data, f.offset) : null);
    });
    readers.set(cap, rs);
  }
  return rs;
}

export function decodeCapture(cap: CompiledCapture, data: Uint8Array): [string, CaptureValue][] {
  return readersOf(cap).map((read, i) => [cap.fields[i]!.label, read(data)]);
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
  const rs = readersOf(cap);
  const jsonKeys = cap.fields.map((f) => `,${JSON.stringify(f.label)}:`);
  const textKeys = cap.fields.map((f) => `${f.label}: `);
  return {
    dump(data: Uint8Array): DumpResult {
      const out: Record<string, string | number | boolean> = {};
      for (const [k, v] of decodeCapture(cap, data))
        out[k] = v === null ? "null" : typeof v === "bigint" ? v.toString() : v;
      return out;
    },
    dumpFormatted(data: Uint8Array, format: DumpFormat): string {
      let s = format === "json" ? "" : "( ";
      for (let i = 0; i < rs.length; i++) {
        const v = rs[i]!(data);
        s += format === "json" ? jsonKeys[i] + jsonOf(v) : `${textKeys[i]}${textOf(v)} `;
      }
      return format === "json" ? s : `${s})`;
    },
  };
}
