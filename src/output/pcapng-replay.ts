// --read: a pcapng file written with -w turned back into trace records, with names from the file, so the
// same writers print it as the live run did. Each EPB's EVENT option (output/pcapng.ts describes the
// format) holds the record as the kernel wrote it; the NAMES options before it name its addresses. The
// records' function, reason, location and stack fields are renumbered by name in the order the file names
// them (so two traces merged into one file, from different kernels, keep their own names); the symbolizer,
// verdict namer and stack namer built here give the names back. The script's text and json fragment, when
// the run had them, are the event's own: the script is not needed to read the file.

import { UserError } from "../core/errors.js";
import {
  IPFT_KIND_EVENT,
  IPFT_KIND_NAMES,
  IPFT_PEN,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  META_PREFIX,
  OPT_CUSTOM_BIN,
} from "../pcapng/format.js";
import type { PcapngContents, ReadPacket } from "../pcapng/reader.js";
import {
  DEVICE_SIZE,
  FLAG_DEVICE,
  LINK_ETHERNET,
  LINK_NETWORK,
  MAX_STACK_DEPTH,
  OFF_CAP_LEN,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_LINK,
  OFF_LOCATION,
  OFF_REASON,
  OFF_STACK_DEPTH,
  OFF_VERDICT,
  OFF_WIRE_LEN,
  RECORD_SIZE,
  recordLength,
} from "../record/record.js";
import { PacketIds } from "./packet-ids.js";
import { FILE_FORMAT, type FileInfo, type FileNames, READABLE_FORMATS } from "./pcapng.js";
import type {
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
  /** The script's or captures' text and JSON keys per event, when the file has them. */
  dumper: Dumper | undefined;
  /** The run's tracer ("function" or "function_graph"). */
  tracer: string;
  /** Packets without ipft's event option (from another capture merged into the file): skipped. */
  foreign: number;
}

/** Numbers for names, in first-seen order (0 is kept for "none"). */
class Names<T> {
  readonly list: (T | undefined)[] = [undefined];
  private readonly ids = new Map<string, number>();
  id(key: string, value: T | undefined): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(value);
      this.ids.set(key, id);
    }
    return id;
  }
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
          return { format: v.format, tracer: v.tracer };
      } catch {
        // not ours
      }
    }
  }
  return undefined;
}

/** What the file's NAMES options said so far: each address's (or reason's) latest name. */
class FileNameTable {
  readonly functions = new Map<bigint, SymbolName>();
  readonly reasons = new Map<number, string>();
  readonly locations = new Map<bigint, string>();
  readonly frames = new Map<bigint, string>();

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
    return true;
  }
}

/** The records of a file written with -w; `name` is what messages call it. */
export function replayOf(c: PcapngContents, name: string): Replay {
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
  // Each record's length: 128, the block's packet bytes padded to 8, 8 per stack frame (record.ts).
  const sizes = c.packets.map(
    (p) => RECORD_SIZE + DEVICE_SIZE + ((bytesOf(p).length + 7) & ~7) + 8 * MAX_STACK_DEPTH,
  );
  const records = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const dv = new DataView(records.buffer);
  const offsets: number[] = [];
  const packetIds: number[] | undefined = info.format === FILE_FORMAT ? [] : undefined;
  const table = new FileNameTable();
  const funcs = new Names<SymbolName>();
  const reasons = new Names<string>();
  const locations = new Names<string>();
  const frames = new Names<string>();
  const texts: string[] = [];
  const frags: string[] = [];
  let withText = false;
  let end = 0;
  let count = 0;
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
    if (!event) {
      foreign++;
      continue;
    }
    if (event.length < OFF_DATA) throw badEvent(name, p);
    const ev = new DataView(event.buffer, event.byteOffset, event.byteLength);
    const depth = ev.getUint8(OFF_STACK_DEPTH);
    // The record's first 64 bytes (not the module's), then the device part when the record has it, then
    // the stack; in the record the device part follows the 128 bytes.
    const dev = (ev.getUint32(OFF_FLAGS, true) & FLAG_DEVICE) !== 0 ? DEVICE_SIZE : 0;
    const stackAt = OFF_DATA + dev;
    const head = RECORD_SIZE + dev;
    const stackEnd = stackAt + 8 * depth;
    if (depth > MAX_STACK_DEPTH || event.length < stackEnd) throw badEvent(name, p);
    const off = end;
    offsets.push(off);
    if (packetIds) {
      if (p.packetId === undefined || p.packetId > BigInt(Number.MAX_SAFE_INTEGER)) throw badEvent(name, p);
      packetIds.push(Number(p.packetId));
    }
    records.set(event.subarray(0, OFF_DATA), off);
    if (dev > 0) records.set(event.subarray(OFF_DATA, stackAt), off + RECORD_SIZE);
    // The packet's bytes are the block's: cap_len says how many the file kept, the link where they start.
    const bytes = bytesOf(p);
    dv.setUint16(off + OFF_CAP_LEN, bytes.length, true);
    if (bytes.length > 0) {
      records.set(bytes, off + head);
      dv.setUint8(off + OFF_LINK, p.interface.linktype === LINKTYPE_RAW ? LINK_NETWORK : LINK_ETHERNET);
    } else dv.setUint32(off + OFF_WIRE_LEN, 0, true);
    // Names: the function by its address, the verdict's reason and location, the stack's frames.
    const fn = dv.getBigUint64(off + OFF_FUNC, true);
    const sym = table.functions.get(fn);
    dv.setBigUint64(
      off + OFF_FUNC,
      BigInt(sym ? funcs.id(`${sym.module}\0${sym.name}`, sym) : funcs.id(`?${fn}`, undefined)),
      true,
    );
    if (dv.getUint32(off + OFF_VERDICT, true) !== 0) {
      const reason = dv.getUint32(off + OFF_REASON, true);
      if (reason !== 0) {
        const r = table.reasons.get(reason) ?? String(reason);
        dv.setUint32(off + OFF_REASON, reasons.id(r, r), true);
      }
      const loc = dv.getBigUint64(off + OFF_LOCATION, true);
      if (loc !== 0n) {
        const l = table.locations.get(loc) ?? hex(loc);
        dv.setBigUint64(off + OFF_LOCATION, BigInt(locations.id(l, l)), true);
      }
    }
    const s = off + head + ((bytes.length + 7) & ~7);
    for (let k = 0; k < depth; k++) {
      const a = ev.getBigUint64(stackAt + 8 * k, true);
      const f = table.frames.get(a) ?? hex(a);
      dv.setBigUint64(s + 8 * k, BigInt(frames.id(f, f)), true);
    }
    end += recordLength(dv, off);
    // The script's text and json fragment, when the run had a script or captures.
    let text = "";
    let frag = "";
    if (event.length > stackEnd) {
      if (event.length < stackEnd + 4) throw badEvent(name, p);
      const len = ev.getUint32(stackEnd, true);
      if (stackEnd + 4 + len > event.length) throw badEvent(name, p);
      const t = utf8(event.subarray(stackEnd + 4, stackEnd + 4 + len));
      const j = utf8(event.subarray(stackEnd + 4 + len));
      if (t === undefined || j === undefined || (j !== "" && !j.startsWith(","))) throw badEvent(name, p);
      text = t;
      frag = j;
      withText = true;
    }
    texts.push(text);
    frags.push(frag);
    dv.setUint32(off + OFF_DATA, count, true);
    count++;
  }
  if (count === 0 && foreign > 0)
    throw new NotAnIpftTrace(
      `${name} has no event written by ipft -w (none of its ${foreign} packets has ipft's event option); open it with Wireshark or tshark instead`,
    );
  const symbolizer: Symbolizer = { resolve: (addr) => funcs.list[Number(addr)] };
  const verdicts: VerdictNamer = {
    reason: (v) => reasons.list[v] ?? String(v),
    location: (a) => locations.list[Number(a)] ?? hex(a),
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
    stacks: { frame: (a) => frames.list[Number(a)] ?? hex(a) },
    symbolizer,
    verdicts,
    dumper,
    tracer: info.tracer,
    foreign,
  };
}

/** Every record of the file to the writer with its packet id: the file's, or for a format 2 file (which
 * has none) numbered here as the live run would have. */
export function replayInto(r: Replay, w: Writer): void {
  const dv = new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
  const ids = r.packetIds;
  const numbering = ids ? undefined : new PacketIds();
  r.offsets.forEach((off, i) => {
    w.write(dv, off, ids ? ids[i]! : numbering!.of(dv, off));
  });
}

/** UTF-8 text, or undefined when the bytes are not UTF-8. */
function utf8(b: Uint8Array): string | undefined {
  try {
    return decoder.decode(b);
  } catch {
    return undefined;
  }
}

/** A block's packet bytes as the record carries them: none for the interface of events without bytes. */
function bytesOf(p: ReadPacket): Uint8Array {
  const t = p.interface.linktype;
  return t === LINKTYPE_ETHERNET || t === LINKTYPE_RAW ? p.data : EMPTY;
}
const EMPTY = new Uint8Array(0);

function badEvent(name: string, p: ReadPacket): NotAnIpftTrace {
  return new NotAnIpftTrace(
    `${name}: the ipft event option of the packet at byte ${p.offset} is not what ipft writes (edited, or another tool's): the file cannot be read back`,
  );
}
