// --read: a pcapng file written with -w turned back into the trace records a live run had, so the same
// writers print it as the live run did. Each EPB's EVENT option (output/pcapng.ts describes the format)
// holds the record's head as the kernel wrote it, then the parts the file keeps there (record/parts/: each
// says how it is kept; the packet's bytes are the block's data); the NAMES options before it name its
// addresses. The records keep their values (the function's address, the drop reason, the location, the
// stack's addresses): the symbolizer, verdict namer and stack namer built here name them from the file,
// as the kernel's names did live. An address the file names twice (traces of two kernels merged into one
// file) takes the last name. The script's text and json fragment, when the run had them, are the event's
// own: the script is not needed to read the file. The file does not keep the module's 64 bytes; the
// records carry their event's index in the first of them, which the dumper built here reads.

import { UserError } from "../core/errors.js";
import { replayedLookups } from "../explain/recorded-lookups.js";
import { IPFT_KIND_EVENT, IPFT_KIND_NAMES, IPFT_PEN, META_PREFIX, OPT_CUSTOM_BIN } from "../pcapng/format.js";
import type { PcapngContents, ReadPacket } from "../pcapng/reader.js";
import { PARTS } from "../record/parts/index.js";
import { MAX_STACK_DEPTH, OFF_DATA, RECORD_SIZE, readStackDepth, readTimestamp } from "../record/record.js";
import { PacketTracker } from "./packet/tracker.js";
import { FILE_FORMAT, type FileInfo, type FileNames, READABLE_FORMATS } from "./pcapng.js";
import { replayedDropDetails } from "./recorded-drop-details.js";
import type {
  DropDetails,
  Dumper,
  DumpFormat,
  StackNamer,
  Symbolizer,
  SymbolName,
  VerdictNamer,
  Writer,
} from "./types.js";

/** A pcapng file that ipft did not write, or whose events it cannot read back. */
export class NotAnIpftTrace extends UserError {}

export interface Replay {
  /** The events' records in file order, each 128 bytes and its packet bytes and stack (record.ts). */
  records: Uint8Array;
  /** Where each record starts in `records`. */
  offsets: number[];
  /** Each record's packet id, as the file says (epb_packetid); undefined for a format 2 file, whose
   * epb_packetid is the skb's address: its packets are numbered as they are read. */
  packetIds: number[] | undefined;
  count: number;
  /** Names of the stacks' frames, numbered in the records. */
  stacks: StackNamer;
  symbolizer: Symbolizer;
  verdicts: VerdictNamer;
  /** Drops' details the live run learned outside their records (--nft-trace's rule). */
  dropDetails: DropDetails;
  /** The script's or captures' text and JSON keys per event, when the file has them. */
  dumper: Dumper | undefined;
  /** The run's tracer ("function" or "function_graph"). */
  tracer: string;
  /** Packets without ipft's event option (from another capture merged into the file): skipped. */
  foreign: number;
  /** The run's clock: its earliest event's timestamp, and wall clock minus the records' clock as the file
   * recorded it (each packet's pcapng time is its record's plus the offset measured at the start). */
  clock: { firstNs: bigint; offsetNs: bigint };
}

const hex = (v: bigint) => `0x${v.toString(16)}`;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The session settings the file keeps in its section's "ipft:" comment (undefined: not an ipft file). */
export function fileInfo(c: PcapngContents): FileInfo | undefined {
  for (const s of c.sections) {
    for (const comment of s.comments) {
      if (!comment.startsWith(META_PREFIX)) continue;
      try {
        const v = JSON.parse(comment.slice(META_PREFIX.length)) as Partial<FileInfo>;
        if (typeof v.format === "number" && typeof v.tracer === "string")
          return { ...v, format: v.format, tracer: v.tracer };
      } catch {
        // not ours
      }
    }
  }
  return undefined;
}

/** What the file's NAMES options said so far: each address's (or reason's) latest name. */
export class FileNameTable {
  readonly functions = new Map<bigint, SymbolName>();
  readonly reasons = new Map<number, string>();
  readonly locations = new Map<bigint, string>();
  readonly frames = new Map<bigint, string>();
  /** What the live run read in the system for drops' facts (explain/recorded-lookups.ts). */
  readonly lookups = new Map<string, string>();

  /** Takes one NAMES option's JSON; false when it is not what ipft writes. */
  learn(json: string): boolean {
    try {
      return this.take(JSON.parse(json) as FileNames);
    } catch {
      return false; // not JSON, or an address that is not a number
    }
  }

  private take(v: FileNames): boolean {
    if (!v || typeof v !== "object") return false;
    const isStr = (x: unknown): x is string => typeof x === "string";
    for (const e of v.functions ?? []) {
      if (!Array.isArray(e) || !e.every(isStr)) return false;
      this.functions.set(BigInt(e[0]), { module: e[1], name: e[2] });
    }
    for (const e of v.reasons ?? []) {
      if (!Array.isArray(e) || typeof e[0] !== "number" || !isStr(e[1])) return false;
      this.reasons.set(e[0], e[1]);
    }
    for (const [into, list] of [
      [this.locations, v.locations],
      [this.frames, v.frames],
    ] as const) {
      for (const e of list ?? []) {
        if (!Array.isArray(e) || !e.every(isStr)) return false;
        into.set(BigInt(e[0]), e[1]);
      }
    }
    for (const e of v.lookups ?? []) {
      if (!Array.isArray(e) || !e.every(isStr)) return false;
      this.lookups.set(e[0], e[1]);
    }
    return true;
  }
}

/** The records of a file written with -w; `name` is what messages call it. `names`: the table of the file's
 * earlier pieces, for a file read piece by piece (whose caller checks it has events: noEvents). */
export function replayOf(c: PcapngContents, name: string, names?: FileNameTable): Replay {
  const info = fileInfo(c);
  if (!info)
    throw new NotAnIpftTrace(
      `${name} was not written by ipft -w (its section has no "ipft:" comment); open it with Wireshark or tshark instead`,
    );
  if (!READABLE_FORMATS.includes(info.format))
    throw new NotAnIpftTrace(
      info.format > FILE_FORMAT
        ? `${name} was written by a newer ipft (trace file format ${info.format}; this ipft reads formats ${READABLE_FORMATS.join(" and ")}): read it with that version`
        : `${name} was written by an older ipft (trace file format ${info.format}; this ipft reads formats ${READABLE_FORMATS.join(" and ")}): read it with the ipft that wrote it (Wireshark and tshark open it as it is)`,
    );
  const events: { p: ReadPacket; event: Uint8Array }[] = [];
  const table = names ?? new FileNameTable();
  let foreign = 0;
  for (const p of c.packets) {
    let event: Uint8Array | undefined;
    for (const o of p.custom) {
      if (o.pen !== IPFT_PEN || o.code !== OPT_CUSTOM_BIN || o.data.length < 4) continue;
      const kind = new DataView(o.data.buffer, o.data.byteOffset, 4).getUint32(0, true);
      if (kind === IPFT_KIND_NAMES) {
        if (!table.learn(utf8(o.data.subarray(4)) ?? "")) throw badEvent(name, p);
      } else if (kind === IPFT_KIND_EVENT) event = o.data.subarray(4);
    }
    if (event) events.push({ p, event });
    else foreign++;
  }
  // Room for each record: 128, the parts the option holds, the block's bytes padded to 8.
  const room = events.reduce((n, e) => n + RECORD_SIZE + e.event.length + ((e.p.data.length + 7) & ~7), 0);
  const records = new Uint8Array(room);
  const dv = new DataView(records.buffer);
  const offsets: number[] = [];
  const packetIds: number[] | undefined = info.format === FILE_FORMAT ? [] : undefined;
  const texts: string[] = [];
  const frags: string[] = [];
  let withText = false;
  let end = 0;
  for (const { p, event } of events) {
    if (event.length < OFF_DATA) throw badEvent(name, p);
    const off = end;
    records.set(event.subarray(0, OFF_DATA), off);
    if (readStackDepth(dv, off) > MAX_STACK_DEPTH) throw badEvent(name, p);
    // The parts, in the record's order: from the option as they were, or from the block's data.
    let at = RECORD_SIZE;
    let pos = OFF_DATA;
    for (const part of PARTS) {
      if (part.file === "data") part.fromBlock!(dv, off, at, p.data, p.interface.linktype);
      else {
        const size = part.size(dv, off);
        if (pos + size > event.length) throw badEvent(name, p);
        records.set(event.subarray(pos, pos + size), off + at);
        pos += size;
      }
      at += part.size(dv, off);
    }
    offsets.push(off);
    if (packetIds) {
      if (p.packetId === undefined || p.packetId > BigInt(Number.MAX_SAFE_INTEGER)) throw badEvent(name, p);
      packetIds.push(Number(p.packetId));
    }
    end = off + at;
    // The script's text and json fragment, when the run had a script or captures.
    let text = "";
    let frag = "";
    if (event.length > pos) {
      if (event.length < pos + 4) throw badEvent(name, p);
      const len = new DataView(event.buffer, event.byteOffset + pos, 4).getUint32(0, true);
      if (pos + 4 + len > event.length) throw badEvent(name, p);
      const t = utf8(event.subarray(pos + 4, pos + 4 + len));
      const j = utf8(event.subarray(pos + 4 + len));
      if (t === undefined || j === undefined || (j !== "" && !j.startsWith(","))) throw badEvent(name, p);
      text = t;
      frag = j;
      withText = true;
    }
    // The event's index where its module's bytes were, for the dumper below.
    dv.setUint32(off + OFF_DATA, texts.length, true);
    texts.push(text);
    frags.push(frag);
  }
  const count = offsets.length;
  if (count === 0 && foreign > 0 && !names) throw noEvents(name, foreign);
  const symbolizer: Symbolizer = { resolve: (addr) => table.functions.get(addr) };
  let firstNs = count > 0 ? readTimestamp(dv, offsets[0]!) : 0n;
  const clock = { firstNs, offsetNs: count > 0 ? events[0]!.p.timestampNs - firstNs : 0n };
  for (const off of offsets) {
    const t = readTimestamp(dv, off);
    if (t < firstNs) firstNs = t;
  }
  clock.firstNs = firstNs;
  const verdicts: VerdictNamer = {
    reason: (v) => table.reasons.get(v) ?? String(v),
    location: (a) => table.locations.get(a) ?? hex(a),
    lookups: replayedLookups(table.lookups),
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
    packetIds,
    count,
    stacks: { frame: (a) => table.frames.get(a) ?? hex(a) },
    symbolizer,
    verdicts,
    dropDetails: replayedDropDetails(table.lookups),
    dumper,
    tracer: info.tracer,
    foreign,
    clock,
  };
}

/** Every record of the file to the writer with its packet id: the file's, or for a format 2 file (which
 * has none) numbered here as the live run would have. */
export function replayInto(r: Replay, w: Writer): void {
  const dv = new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
  const ids = r.packetIds;
  const numbering = ids ? undefined : new PacketTracker();
  r.offsets.forEach((off, i) => {
    w.write(dv, off, ids ? ids[i]! : numbering!.of(dv, off));
  });
}

/** A file none of whose packets is an ipft event. */
export function noEvents(name: string, foreign: number): NotAnIpftTrace {
  return new NotAnIpftTrace(
    `${name} has no event written by ipft -w (none of its ${foreign} packets has ipft's event option); open it with Wireshark or tshark instead`,
  );
}

/** UTF-8 text, or undefined when the bytes are not UTF-8. */
function utf8(b: Uint8Array): string | undefined {
  try {
    return decoder.decode(b);
  } catch {
    return undefined;
  }
}

function badEvent(name: string, p: ReadPacket): NotAnIpftTrace {
  return new NotAnIpftTrace(
    `${name}: the ipft event option of the packet at byte ${p.offset} is not what ipft writes (edited, or another tool's): the file cannot be read back`,
  );
}
