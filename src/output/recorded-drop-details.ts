// A drop's details learned outside its record while tracing (--nft-trace's rule), kept in the trace file
// with the other answers the live run read (the NAMES option's lookups) under `drop HI:LO`, the drop
// event's timestamp, so --read explains the drop as the live run did.
import type { Explanation } from "../explain/explanation.js";
import type { DropDetails } from "./types.js";

type Detail = { why: Explanation; place: string };

const keyOf = (tsHi: number, tsLo: number) => `drop ${tsHi}:${tsLo}`;

/** `inner`, each detail it gives handed to `keep(key, json)` once. */
export function recordingDropDetails(
  inner: DropDetails,
  keep: (key: string, json: string) => void,
): DropDetails {
  const kept = new Set<string>();
  return {
    get(tsHi, tsLo) {
      const d = inner.get(tsHi, tsLo);
      const key = keyOf(tsHi, tsLo);
      if (d && !kept.has(key)) {
        kept.add(key);
        keep(key, JSON.stringify(d));
      }
      return d;
    },
  };
}

/** The details a trace file kept (key -> JSON), by drop. */
export function replayedDropDetails(kept: ReadonlyMap<string, string>): DropDetails {
  return {
    get(tsHi, tsLo) {
      const j = kept.get(keyOf(tsHi, tsLo));
      if (j === undefined) return undefined;
      try {
        const d = JSON.parse(j) as Detail;
        return d && typeof d.place === "string" && d.why && typeof d.why.text === "string" ? d : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
