// Reads a pcapng file: sections (either byte order), interfaces, packets (enhanced, simple and the
// obsolete packet block), interface statistics and custom blocks, with their options. Unknown blocks and
// options are skipped. A file that ends inside its last block (a trace cut by SIGKILL or a full disk) is
// read up to that block and reported `truncated`; anything that is not pcapng, or a damaged block before
// the end, is a UserError that says where and what.

import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.js";
import {
  BLOCK_CUSTOM,
  BLOCK_CUSTOM_NOCOPY,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_OPB,
  BLOCK_SHB,
  BLOCK_SPB,
  BYTE_ORDER_MAGIC,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  type Direction,
  EPB_DROPCOUNT,
  EPB_FLAGS,
  EPB_PACKETID,
  IF_DESCRIPTION,
  IF_NAME,
  IF_OS,
  IF_TSOFFSET,
  IF_TSRESOL,
  ISB_ENDTIME,
  ISB_FILTERACCEPT,
  ISB_IFDROP,
  ISB_IFRECV,
  ISB_OSDROP,
  ISB_STARTTIME,
  ISB_USRDELIV,
  META_PREFIX,
  OPT_COMMENT,
  OPT_CUSTOM_BIN,
  OPT_CUSTOM_BIN_NOCOPY,
  OPT_CUSTOM_STR,
  OPT_CUSTOM_STR_NOCOPY,
  OPT_ENDOFOPT,
  SHB_HARDWARE,
  SHB_OS,
  SHB_USERAPPL,
} from "./format.js";

/** A pcapng file that cannot be read: not pcapng, or a damaged block. */
export class PcapngFormatError extends UserError {}

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

export interface ReadCustomOption {
  code: number;
  pen: number;
  data: Uint8Array;
}

export interface ReadSection {
  index: number;
  offset: number;
  byteOrder: "little" | "big";
  major: number;
  minor: number;
  /** -1n when not given. */
  sectionLength: bigint;
  userappl?: string;
  os?: string;
  hardware?: string;
  comments: string[];
  options: PcapngOption[];
}

export interface ReadInterface {
  section: number;
  /** The id packets of its section refer to it by. */
  id: number;
  linktype: number;
  snaplen: number;
  name?: string;
  description?: string;
  os?: string;
  /** if_tsresol as written (default 6: microseconds). */
  tsresol: number;
  /** if_tsoffset in seconds (default 0). */
  tsoffset: bigint;
  comments: string[];
  options: PcapngOption[];
}

export interface ReadPacket {
  /** Byte offset of its block in the file. */
  offset: number;
  interface: ReadInterface;
  /** The timestamp in the interface's units, as written. */
  timestamp: bigint;
  /** Nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  capturedLength: number;
  originalLength: number;
  /** A view into the file's bytes. */
  data: Uint8Array;
  comments: string[];
  /** The fields of the "ipft:" JSON comment, when there is one. */
  meta?: Record<string, unknown>;
  /** epb_flags, whole. */
  flags?: number;
  direction?: Direction;
  packetId?: bigint;
  dropCount?: bigint;
  custom: ReadCustomOption[];
  options: PcapngOption[];
}

export interface ReadStatistics {
  offset: number;
  interface: ReadInterface;
  timestampNs: bigint;
  startNs?: bigint;
  endNs?: bigint;
  ifrecv?: bigint;
  ifdrop?: bigint;
  filteraccept?: bigint;
  osdrop?: bigint;
  usrdeliv?: bigint;
  comments: string[];
  options: PcapngOption[];
}

export interface ReadCustomBlock {
  offset: number;
  section: number;
  pen: number;
  data: Uint8Array;
  copyable: boolean;
}

export interface PcapngContents {
  sections: ReadSection[];
  interfaces: ReadInterface[];
  packets: ReadPacket[];
  statistics: ReadStatistics[];
  customBlocks: ReadCustomBlock[];
  /** The file ends inside a block: everything before it was read. */
  truncated: boolean;
  /** Where the incomplete block starts, and how many bytes it has of how many. */
  truncatedAt?: { offset: number; have: number; need?: number };
  /** The sum of every isb_ifdrop: the events ipft lost. */
  lostEvents: bigint;
}

const decoder = new TextDecoder("utf-8");
const text = (b: Uint8Array) => decoder.decode(b).replace(/\0+$/, "");

const hex4 = (b: Uint8Array) =>
  Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, "0")).join(" ");

/** The fields of the "ipft:" comment among `comments`, or undefined. */
export function parseMeta(comments: readonly string[]): Record<string, unknown> | undefined {
  for (const c of comments) {
    if (!c.startsWith(META_PREFIX)) continue;
    try {
      const v = JSON.parse(c.slice(META_PREFIX.length));
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // a comment that only looks like ours: leave it a comment
    }
  }
  return undefined;
}

/** Nanoseconds since the epoch of a timestamp in an interface's units. */
export function timestampToNs(ts: bigint, tsresol: number, tsoffset = 0n): bigint {
  const exp = tsresol & 0x7f;
  let ns: bigint;
  if (tsresol & 0x80) ns = (ts * 1_000_000_000n) >> BigInt(exp);
  else if (exp <= 9) ns = ts * 10n ** BigInt(9 - exp);
  else ns = ts / 10n ** BigInt(exp - 9);
  return ns + tsoffset * 1_000_000_000n;
}

/** Reads a whole pcapng file. */
export function readPcapngFile(path: string): PcapngContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  return parsePcapng(bytes, path);
}

/** The error of a file that cannot be opened or read. */
export function unreadable(path: string, e: unknown): PcapngFormatError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.code;
  return new PcapngFormatError(`cannot read the pcapng file ${path}: ${why ?? err.message}`);
}

/** Where a file read in pieces stands between them (reading block by block: merge/file-events.ts). */
export interface ParseState {
  /** The file offset of the piece's first byte. */
  base: number;
  le: boolean;
  section: ReadSection | undefined;
  ifaces: ReadInterface[];
  sections: number;
}

export const startState = (): ParseState => ({
  base: 0,
  le: true,
  section: undefined,
  ifaces: [],
  sections: 0,
});

/** Parses pcapng bytes; `name` is what messages call them. With `state`, the bytes are the piece of a file
 * at `state.base` that follows what `state` says, and `state` is left as the piece ends (its last whole
 * block: a block the piece ends inside is `truncatedAt`). */
export function parsePcapng(bytes: Uint8Array, name = "the input", state?: ParseState): PcapngContents {
  const out: PcapngContents = {
    sections: [],
    interfaces: [],
    packets: [],
    statistics: [],
    customBlocks: [],
    truncated: false,
    lostEvents: 0n,
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const base = state?.base ?? 0;
  const damaged = (offset: number, what: string) =>
    new PcapngFormatError(
      `${name} is damaged: the block at byte ${base + offset} ${what}`,
      "the blocks before it are intact; a file cut short at the end is read up to its last whole block",
    );
  if (base === 0) notPcapng(bytes, name);

  let le = state?.le ?? true;
  let section: ReadSection | undefined = state?.section;
  let ifaces: ReadInterface[] = state?.ifaces ?? [];
  let off = 0;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < 12) {
      out.truncated = true;
      out.truncatedAt = { offset: base + off, have: left };
      break;
    }
    let type = dv.getUint32(off, le);
    if (type === BLOCK_SHB || dv.getUint32(off, !le) === BLOCK_SHB) {
      // A new section sets the byte order: its magic says which.
      type = BLOCK_SHB;
      const magic = dv.getUint32(off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (magic === 0x4d3c2b1a) le = false;
      else
        throw damaged(
          off,
          `is a section header without the byte-order magic 1a2b3c4d (found ${hex4(bytes.subarray(off + 8))})`,
        );
    }
    const total = dv.getUint32(off + 4, le);
    if (total < 12 || total % 4 !== 0)
      throw damaged(off, `has a length of ${total} bytes (a block is at least 12 bytes, a multiple of 4)`);
    if (total > left) {
      out.truncated = true;
      out.truncatedAt = { offset: base + off, have: left, need: total };
      break;
    }
    const trailing = dv.getUint32(off + total - 4, le);
    if (trailing !== total) throw damaged(off, `says ${total} bytes at its start and ${trailing} at its end`);
    const body = off + 8;
    const end = off + total - 4;
    const opts = (from: number) =>
      options(bytes, dv, from, end, le, () => damaged(off, "has an option that runs past its end"));

    if (type === BLOCK_SHB) {
      if (total < 28) throw damaged(off, "is a section header shorter than 28 bytes");
      const major = dv.getUint16(body + 4, le);
      const minor = dv.getUint16(body + 6, le);
      if (major !== 1)
        throw new PcapngFormatError(
          `${name}: pcapng version ${major}.${minor} at byte ${base + off} is not supported (only 1.x)`,
        );
      const o = opts(body + 16);
      section = {
        index: (state?.sections ?? 0) + out.sections.length,
        offset: base + off,
        byteOrder: le ? "little" : "big",
        major,
        minor,
        sectionLength: dv.getBigInt64(body + 8, le),
        comments: comments(o),
        options: o,
      };
      const str = (code: number) => {
        const v = o.find((x) => x.code === code);
        return v ? text(v.value) : undefined;
      };
      const userappl = str(SHB_USERAPPL);
      const os = str(SHB_OS);
      const hardware = str(SHB_HARDWARE);
      if (userappl !== undefined) section.userappl = userappl;
      if (os !== undefined) section.os = os;
      if (hardware !== undefined) section.hardware = hardware;
      out.sections.push(section);
      ifaces = [];
    } else if (!section) {
      throw damaged(off, "comes before any section header");
    } else if (type === BLOCK_IDB) {
      if (total < 20) throw damaged(off, "is an interface description shorter than 20 bytes");
      const o = opts(body + 8);
      const iface: ReadInterface = {
        section: section.index,
        id: ifaces.length,
        linktype: dv.getUint16(body, le),
        snaplen: dv.getUint32(body + 4, le),
        tsresol: 6,
        tsoffset: 0n,
        comments: comments(o),
        options: o,
      };
      for (const x of o) {
        if (x.code === IF_NAME) iface.name = text(x.value);
        else if (x.code === IF_DESCRIPTION) iface.description = text(x.value);
        else if (x.code === IF_OS) iface.os = text(x.value);
        else if (x.code === IF_TSRESOL && x.value.length >= 1) iface.tsresol = x.value[0]!;
        else if (x.code === IF_TSOFFSET && x.value.length >= 8) iface.tsoffset = u64(x.value, le, true);
      }
      ifaces.push(iface);
      out.interfaces.push(iface);
    } else if (type === BLOCK_EPB || type === BLOCK_OPB) {
      if (total < 32) throw damaged(off, "is a packet block shorter than 32 bytes");
      const id = type === BLOCK_EPB ? dv.getUint32(body, le) : dv.getUint16(body, le);
      const iface = ifaces[id];
      if (!iface)
        throw damaged(off, `is a packet of interface ${id}, but its section declares ${ifaces.length}`);
      const cap = dv.getUint32(body + 12, le);
      const dataOff = body + 20;
      if (dataOff + cap > end) throw damaged(off, `holds ${cap} packet bytes, more than the block has`);
      const timestamp = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const o = opts(dataOff + ((cap + 3) & ~3));
      const p: ReadPacket = {
        offset: base + off,
        interface: iface,
        timestamp,
        timestampNs: timestampToNs(timestamp, iface.tsresol, iface.tsoffset),
        capturedLength: cap,
        originalLength: dv.getUint32(body + 16, le),
        data: bytes.subarray(dataOff, dataOff + cap),
        comments: comments(o),
        custom: custom(o, le),
        options: o,
      };
      for (const x of o) {
        if (x.code === EPB_FLAGS && x.value.length >= 4 && type === BLOCK_EPB) {
          p.flags = u32(x.value, le);
          const dir = p.flags & 3;
          if (dir === DIRECTION_INBOUND) p.direction = "inbound";
          else if (dir === DIRECTION_OUTBOUND) p.direction = "outbound";
        } else if (x.code === EPB_DROPCOUNT && x.value.length >= 8) p.dropCount = u64(x.value, le);
        else if (x.code === EPB_PACKETID && x.value.length >= 8) p.packetId = u64(x.value, le);
      }
      const meta = parseMeta(p.comments);
      if (meta) p.meta = meta;
      out.packets.push(p);
    } else if (type === BLOCK_SPB) {
      const iface = ifaces[0];
      if (!iface) throw damaged(off, "is a simple packet, but its section declares no interface");
      const orig = dv.getUint32(body, le);
      const cap = Math.min(orig, iface.snaplen || orig, end - body - 4);
      out.packets.push({
        offset: base + off,
        interface: iface,
        timestamp: 0n,
        timestampNs: 0n,
        capturedLength: cap,
        originalLength: orig,
        data: bytes.subarray(body + 4, body + 4 + cap),
        comments: [],
        custom: [],
        options: [],
      });
    } else if (type === BLOCK_ISB) {
      if (total < 24) throw damaged(off, "is an interface statistics block shorter than 24 bytes");
      const id = dv.getUint32(body, le);
      const iface = ifaces[id];
      if (!iface)
        throw damaged(off, `holds statistics of interface ${id}, but its section declares ${ifaces.length}`);
      const ts = (hi: number, lo: number) =>
        timestampToNs((BigInt(hi) << 32n) | BigInt(lo), iface.tsresol, iface.tsoffset);
      const o = opts(body + 12);
      const s: ReadStatistics = {
        offset: base + off,
        interface: iface,
        timestampNs: ts(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le)),
        comments: comments(o),
        options: o,
      };
      for (const x of o) {
        if (x.value.length < 8) continue;
        const v = new DataView(x.value.buffer, x.value.byteOffset, 8);
        if (x.code === ISB_STARTTIME) s.startNs = ts(v.getUint32(0, le), v.getUint32(4, le));
        else if (x.code === ISB_ENDTIME) s.endNs = ts(v.getUint32(0, le), v.getUint32(4, le));
        else if (x.code === ISB_IFRECV) s.ifrecv = u64(x.value, le);
        else if (x.code === ISB_IFDROP) s.ifdrop = u64(x.value, le);
        else if (x.code === ISB_FILTERACCEPT) s.filteraccept = u64(x.value, le);
        else if (x.code === ISB_OSDROP) s.osdrop = u64(x.value, le);
        else if (x.code === ISB_USRDELIV) s.usrdeliv = u64(x.value, le);
      }
      if (s.ifdrop !== undefined) out.lostEvents += s.ifdrop;
      out.statistics.push(s);
    } else if (type === BLOCK_CUSTOM || type === BLOCK_CUSTOM_NOCOPY) {
      if (total < 16) throw damaged(off, "is a custom block shorter than 16 bytes");
      out.customBlocks.push({
        offset: base + off,
        section: section.index,
        pen: dv.getUint32(body, le),
        data: bytes.subarray(body + 4, end),
        copyable: type === BLOCK_CUSTOM,
      });
    }
    off += total;
  }
  if (state) Object.assign(state, { le, section, ifaces, sections: state.sections + out.sections.length });
  return out;
}

/** Throws a clear message when the bytes are not pcapng at all. */
function notPcapng(bytes: Uint8Array, name: string): void {
  if (bytes.length === 0) throw new PcapngFormatError(`${name} is empty: not a pcapng file`);
  const head = bytes.subarray(0, 4);
  const shb = [0x0a, 0x0d, 0x0d, 0x0a];
  if (head.every((b, i) => b === shb[i])) return;
  const magic = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false) : 0;
  const pcap = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];
  if (pcap.includes(magic))
    throw new PcapngFormatError(
      `${name} is a classic pcap file, not pcapng: convert it with \`editcap -F pcapng ${name} OUT.pcapng\``,
    );
  throw new PcapngFormatError(
    `${name} is not a pcapng file: it starts with ${hex4(bytes)}, a pcapng file with 0a 0d 0d 0a`,
  );
}

function options(
  bytes: Uint8Array,
  dv: DataView,
  from: number,
  end: number,
  le: boolean,
  bad: () => Error,
): PcapngOption[] {
  const out: PcapngOption[] = [];
  let p = from;
  while (p + 4 <= end) {
    const code = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    const vEnd = p + 4 + len;
    if (vEnd > end) throw bad();
    out.push({ code, value: bytes.subarray(p + 4, vEnd) });
    p = p + 4 + ((len + 3) & ~3);
  }
  return out;
}

const comments = (o: PcapngOption[]) => o.filter((x) => x.code === OPT_COMMENT).map((x) => text(x.value));

function custom(o: PcapngOption[], le: boolean): ReadCustomOption[] {
  const codes = [OPT_CUSTOM_STR, OPT_CUSTOM_BIN, OPT_CUSTOM_STR_NOCOPY, OPT_CUSTOM_BIN_NOCOPY];
  return o
    .filter((x) => codes.includes(x.code) && x.value.length >= 4)
    .map((x) => ({ code: x.code, pen: u32(x.value, le), data: x.value.subarray(4) }));
}

const u32 = (b: Uint8Array, le: boolean) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, le);
const u64 = (b: Uint8Array, le: boolean, signed = false) => {
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return signed ? v.getBigInt64(0, le) : v.getBigUint64(0, le);
};
