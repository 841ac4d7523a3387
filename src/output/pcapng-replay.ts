// --read: a pcapng file written with -w turned back into trace records, with names from the file, so the
// same writers print it as the live run did. Each EPB's "ipft:" comment is the -o json object of its event
// (output/pcapng.ts): its fixed keys are parsed in their order from the text itself (the timestamp's
// digits exactly, whatever the uptime), the script's JSON keys after them are kept as they were written,
// and "ipft_text" is the script's text. Function names, drop reasons and locations are numbered in the
// order the file names them; the symbolizer and verdict namer built here give the names back.

import { UserError } from "../core/errors.js";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, META_PREFIX } from "../pcapng/format.js";
import type { PcapngContents, ReadPacket } from "../pcapng/reader.js";
import {
  FIELDS,
  FLAG_CLONE,
  FLAG_RETURN,
  LINK_ETHERNET,
  LINK_NETWORK,
  MAX_STACK_DEPTH,
  OFF_CAP_LEN,
  OFF_CPU,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_LINK,
  OFF_LOCATION,
  OFF_REASON,
  OFF_SKB,
  OFF_STACK_DEPTH,
  OFF_TRACK,
  OFF_TSTAMP,
  OFF_VERDICT,
  OFF_WIRE_LEN,
  RECORD_SIZE,
  recordLength,
  VERDICT_CONSUME,
  VERDICT_DROP,
} from "../record/record.js";
import { FILE_FORMAT, type FileInfo, STACK_KEY, TEXT_KEY, TRACK_KEY } from "./pcapng.js";
import type { Dumper, DumpFormat, StackNamer, Symbolizer, SymbolName, VerdictNamer } from "./types.js";

/** A pcapng file that ipft did not write, or whose events it cannot read back. */
export class NotAnIpftTrace extends UserError {}

export interface Replay {
  /** The events' records in file order, each 128 bytes and its packet bytes and stack (record.ts). */
  records: Uint8Array;
  /** Where each record starts in `records`. */
  offsets: number[];
  count: number;
  /** Names of the stacks' frames, numbered in the records. */
  stacks: StackNamer;
  symbolizer: Symbolizer;
  verdicts: VerdictNamer;
  /** The script's or captures' text and JSON keys per event, when the file has them. */
  dumper: Dumper | undefined;
  /** The run's tracer ("function" or "function_graph"). */
  tracer: string;
  /** Packets without an "ipft:" comment (from another capture merged into the file): skipped. */
  foreign: number;
}

const str = '"((?:[^"\\\\]|\\\\.)*)"';
const key = (k: string) => JSON.stringify(k);
const [K_SKB] = FIELDS.skb.json.map(key);
const [K_TS] = FIELDS.tstamp.json.map(key);
const [K_CPU] = FIELDS.cpu.json.map(key);
const [K_MODULE, K_FUNCTION] = FIELDS.func.json.map(key);
const [K_RETURN] = FIELDS.flags.json.map(key);
const [K_VERDICT] = FIELDS.verdict.json.map(key);
const [K_REASON] = FIELDS.reason.json.map(key);
const [K_LOCATION, K_PARENT] = FIELDS.location.json.map(key);
/** The fixed keys in the order the json writer prints them. */
const FIXED = new RegExp(
  `^\\{${K_SKB}:"0x([0-9a-f]+)",${K_TS}:([0-9]+),${K_CPU}:([0-9]+),${K_MODULE}:${str},${K_FUNCTION}:${str},${K_RETURN}:(true|false)` +
    `(?:,${K_VERDICT}:"(drop|consume)"(?:,${K_REASON}:${str})?(?:,${K_LOCATION}:${str})?)?` +
    `(?:,${K_PARENT}:"0x([0-9a-f]+)")?` +
    `(?:,${key(TRACK_KEY)}:"0x([0-9a-f]+)")?(?:,${key(STACK_KEY)}:(\\[(?:"(?:[^"\\\\]|\\\\.)*"(?:,"(?:[^"\\\\]|\\\\.)*")*)?\\]))?`,
);
const TEXT_TAIL = `,${JSON.stringify(TEXT_KEY)}:`;

const unquote = (s: string): string => JSON.parse(`"${s}"`) as string;

/** Numbers for names, in first-seen order (0 is kept for "none"). */
class Names {
  readonly list: string[] = [""];
  private readonly ids = new Map<string, number>();
  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(name);
      this.ids.set(name, id);
    }
    return id;
  }
}

/** The session settings the file keeps in its section's "ipft:" comment (undefined: not an ipft file). */
export function fileInfo(c: PcapngContents): FileInfo | undefined {
  for (const s of c.sections) {
    for (const comment of s.comments) {
      if (!comment.startsWith(META_PREFIX)) continue;
      try {
        const v = JSON.parse(comment.slice(META_PREFIX.length)) as Partial<FileInfo>;
        if (typeof v.format === "number" && typeof v.tracer === "string")
          return { format: v.format, tracer: v.tracer };
      } catch {
        // not ours
      }
    }
  }
  return undefined;
}

/** The records of a file written with -w; `name` is what messages call it. */
export function replayOf(c: PcapngContents, name: string): Replay {
  const info = fileInfo(c);
  if (!info)
    throw new NotAnIpftTrace(
      `${name} was not written by ipft -w (its section has no "ipft:" comment); open it with Wireshark or tshark instead`,
    );
  if (info.format > FILE_FORMAT)
    throw new NotAnIpftTrace(
      `${name} was written by a newer ipft (trace file format ${info.format}; this ipft reads ${FILE_FORMAT}): read it with that version`,
    );
  // Each record's length: 128, the block's packet bytes padded to 8, 8 per stack frame (record.ts).
  const sizes = c.packets.map((p) => RECORD_SIZE + ((bytesOf(p).length + 7) & ~7) + 8 * MAX_STACK_DEPTH);
  const records = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const dv = new DataView(records.buffer);
  const offsets: number[] = [];
  const frames = new Names();
  let end = 0;
  const funcs = new Names();
  const reasons = new Names();
  const locations = new Names();
  const texts: string[] = [];
  const frags: string[] = [];
  let withText = false;
  let count = 0;
  let foreign = 0;
  for (const p of c.packets) {
    const comment = p.comments.find((s) => s.startsWith(META_PREFIX));
    if (!comment) {
      foreign++;
      continue;
    }
    const json = comment.slice(META_PREFIX.length);
    const m = FIXED.exec(json);
    if (!m) throw badEvent(name, p);
    const off = end;
    offsets.push(off);
    dv.setBigUint64(off + OFF_SKB, BigInt(`0x${m[1]}`), true);
    dv.setBigUint64(off + OFF_TSTAMP, BigInt(m[2]!), true);
    dv.setUint32(off + OFF_CPU, Number(m[3]), true);
    const fn = funcs.id(`${unquote(m[4]!)}\0${unquote(m[5]!)}`);
    dv.setBigUint64(off + OFF_FUNC, BigInt(fn), true);
    if (m[6] === "true") dv.setUint32(off + OFF_FLAGS, FLAG_RETURN, true);
    if (m[7]) {
      dv.setUint32(off + OFF_VERDICT, m[7] === "drop" ? VERDICT_DROP : VERDICT_CONSUME, true);
      if (m[8] !== undefined) dv.setUint32(off + OFF_REASON, reasons.id(unquote(m[8])), true);
      if (m[9] !== undefined) dv.setBigUint64(off + OFF_LOCATION, BigInt(locations.id(unquote(m[9]))), true);
    }
    if (m[10] !== undefined) {
      dv.setUint32(off + OFF_FLAGS, dv.getUint32(off + OFF_FLAGS, true) | FLAG_CLONE, true);
      dv.setBigUint64(off + OFF_LOCATION, BigInt(`0x${m[10]}`), true);
    }
    if (m[11] !== undefined) dv.setBigUint64(off + OFF_TRACK, BigInt(`0x${m[11]}`), true);
    const bytes = bytesOf(p);
    if (bytes.length > 0) {
      records.set(bytes, off + RECORD_SIZE);
      dv.setUint32(off + OFF_WIRE_LEN, p.originalLength, true);
      dv.setUint16(off + OFF_CAP_LEN, bytes.length, true);
      dv.setUint8(off + OFF_LINK, p.interface.linktype === LINKTYPE_RAW ? LINK_NETWORK : LINK_ETHERNET);
    }
    if (m[12] !== undefined) {
      const names = JSON.parse(m[12]) as string[];
      const s = off + RECORD_SIZE + ((bytes.length + 7) & ~7);
      for (const [k, f] of names.slice(0, MAX_STACK_DEPTH).entries())
        dv.setBigUint64(s + 8 * k, BigInt(frames.id(f)), true);
      dv.setUint8(off + OFF_STACK_DEPTH, Math.min(names.length, MAX_STACK_DEPTH));
    }
    end += recordLength(dv, off);
    // The script's keys sit between the fixed ones and the text key (always last when present).
    let rest = json.slice(m[0].length, -1);
    let text = "";
    const at = rest.lastIndexOf(TEXT_TAIL);
    if (at >= 0) {
      try {
        text = JSON.parse(rest.slice(at + TEXT_TAIL.length)) as string;
      } catch {
        throw badEvent(name, p);
      }
      rest = rest.slice(0, at);
      withText = true;
    }
    if (!json.endsWith("}") || (rest !== "" && !rest.startsWith(","))) throw badEvent(name, p);
    texts.push(text);
    frags.push(rest);
    dv.setUint32(off + OFF_DATA, count, true);
    count++;
  }
  if (count === 0 && foreign > 0)
    throw new NotAnIpftTrace(
      `${name} has no event written by ipft -w (none of its ${foreign} packets has an "ipft:" comment); open it with Wireshark or tshark instead`,
    );
  const symbolizer: Symbolizer = {
    resolve(addr: bigint): SymbolName | undefined {
      const s = funcs.list[Number(addr)];
      if (!s) return undefined;
      const cut = s.indexOf("\0");
      return { module: s.slice(0, cut), name: s.slice(cut + 1) };
    },
  };
  const verdicts: VerdictNamer = {
    reason: (v) => reasons.list[v] || String(v),
    location: (a) => locations.list[Number(a)] || `0x${a.toString(16)}`,
  };
  const indexOf = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  const dumper: Dumper | undefined = withText
    ? {
        dump: (data) => texts[indexOf(data)],
        dumpFormatted: (data, format: DumpFormat) => (format === "json" ? frags : texts)[indexOf(data)] ?? "",
      }
    : undefined;
  return {
    records: records.subarray(0, end),
    offsets,
    count,
    stacks: { frame: (a) => frames.list[Number(a)] ?? `0x${a.toString(16)}` },
    symbolizer,
    verdicts,
    dumper,
    tracer: info.tracer,
    foreign,
  };
}

/** A block's packet bytes as the record carries them: none for the interface of events without bytes. */
function bytesOf(p: ReadPacket): Uint8Array {
  const t = p.interface.linktype;
  return t === LINKTYPE_ETHERNET || t === LINKTYPE_RAW ? p.data : EMPTY;
}
const EMPTY = new Uint8Array(0);

function badEvent(name: string, p: ReadPacket): NotAnIpftTrace {
  return new NotAnIpftTrace(
    `${name}: the "ipft:" comment of the packet at byte ${p.offset} is not an event ipft wrote (edited, or another tool's): the file cannot be read back`,
  );
}
