// A pcapng writer that hands its sink complete blocks only.
//
// The guarantee: every block is built whole in memory and given to the sink in one `write` call (alone, or
// with the whole blocks before it when the writer batches: `batchBytes`, ipft's -w does); the file
// sink writes whole blocks (one block, or several whole blocks gathered in its buffer) with as few
// write(2) calls as the kernel allows and never starts a block it has not got entirely. So a file cut by
// SIGKILL, a full disk or a crash ends at a block boundary, or inside the last block written (a write(2)
// the kernel completed only in part), never with a damaged block followed by more blocks. Readers
// (tshark, capinfos, ipft's own) read every block before the cut. With a buffer (the default), the blocks
// still in it when the process is killed are lost: call `flush()` after each batch of events (ipft does so
// after each drain of the ring buffer) to bound that loss to one batch.

import { closeSync, openSync, writeSync } from "node:fs";
import { arch, cpus, release, type } from "node:os";
import { UserError } from "../core/errors.js";
import {
  BLOCK_CUSTOM,
  BLOCK_CUSTOM_NOCOPY,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_SHB,
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
  IF_TSRESOL,
  ISB_ENDTIME,
  ISB_IFDROP,
  ISB_STARTTIME,
  ISB_USRDELIV,
  LINKTYPE_RAW,
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
  TSRESOL_NS,
} from "./format.js";

// ---------------------------------------------------------------------------------------------- sinks

/** Where blocks go. `write` gets one or more complete blocks; the bytes are valid only during the call. */
export interface BlockSink {
  write(blocks: Uint8Array): void;
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and releases the sink (a file is closed, standard output is left open). */
  close(): void;
}

/** A failed write to the pcapng output (full disk, closed pipe): what happened and what is in the file. */
export class PcapngOutputError extends UserError {}

export interface FdSinkOptions {
  /** Bytes of whole blocks gathered before a write(2); 0 writes each block at once. Default 64 KiB. */
  bufferBytes?: number;
  /** What to call the output in messages (a path, or "standard output"). */
  name?: string;
  /** Close the fd in `close()` (true for files this module opened). */
  closeFd?: boolean;
  /** fs.writeSync's shape; replaced in tests to return short counts and EAGAIN. */
  writeSync?: (fd: number, buf: Uint8Array, off: number, len: number) => number;
  /** How to wait for a non-blocking fd (a pipe whose reader is slow) to drain; default sleeps 1 ms. */
  waitWritable?: () => void;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepOneMs = () => {
  Atomics.wait(sleepCell, 0, 0, 1);
};

/**
 * A synchronous sink on a file descriptor. Handles short writes (writes the rest) and EAGAIN (a
 * non-blocking pipe that is full: waits and tries again), so a block is never dropped half written by us.
 */
export class FdSink implements BlockSink {
  readonly name: string;
  /** Bytes handed to write(2) and accepted by it. */
  written = 0;
  private readonly buf: Uint8Array;
  private used = 0;
  private closed = false;
  private readonly writeFn: (fd: number, buf: Uint8Array, off: number, len: number) => number;
  private readonly wait: () => void;
  private readonly closeFd: boolean;

  constructor(
    private readonly fd: number,
    opts: FdSinkOptions = {},
  ) {
    this.name = opts.name ?? `fd ${fd}`;
    this.buf = new Uint8Array(opts.bufferBytes ?? 64 * 1024);
    this.writeFn = opts.writeSync ?? ((f, b, o, l) => writeSync(f, b, o, l));
    this.wait = opts.waitWritable ?? sleepOneMs;
    this.closeFd = opts.closeFd ?? false;
  }

  write(blocks: Uint8Array): void {
    if (this.closed) throw new Error(`pcapng sink ${this.name} is closed`);
    if (this.used + blocks.length > this.buf.length) this.flush();
    if (blocks.length > this.buf.length) {
      this.writeAll(blocks);
      return;
    }
    this.buf.set(blocks, this.used);
    this.used += blocks.length;
  }

  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.closeFd) closeSync(this.fd);
    }
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      let n: number;
      try {
        n = this.writeFn(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.wait();
          continue;
        }
        if (code === "EINTR") continue;
        throw this.failure(code, e);
      }
      off += n;
      this.written += n;
    }
  }

  private failure(code: string | undefined, e: unknown): Error {
    const cut = "the file ends with the last complete block written before it";
    if (code === "EPIPE")
      return new PcapngOutputError(`pcapng output ${this.name}: the reading end was closed (EPIPE)`);
    if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG")
      return new PcapngOutputError(
        `pcapng output ${this.name}: ${code === "EFBIG" ? "file too large" : "no space left on device"} (${code}); ${cut}`,
      );
    if (code) return new PcapngOutputError(`pcapng output ${this.name}: write failed (${code}); ${cut}`);
    return e as Error;
  }
}

/**
 * Opens the output named on the command line: "-" is standard output (left open on close, for
 * `ipft -w - | tshark -r -`), anything else a file created or truncated with mode 0644.
 */
export function openBlockSink(path: string, opts: Omit<FdSinkOptions, "name" | "closeFd"> = {}): FdSink {
  if (path === "-") return new FdSink(1, { ...opts, name: "standard output" });
  let fd: number;
  try {
    fd = openSync(path, "w", 0o644);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "its directory does not exist"
        : err.code === "EACCES" || err.code === "EPERM"
          ? "permission denied"
          : err.code === "EISDIR"
            ? "it is a directory"
            : (err.code ?? err.message);
    throw new PcapngOutputError(`cannot write the pcapng file ${path}: ${why}`);
  }
  return new FdSink(fd, { ...opts, name: path, closeFd: true });
}

/** Keeps every block in memory (tests, and callers that want the bytes). */
export class MemorySink implements BlockSink {
  private chunks: Uint8Array[] = [];
  write(blocks: Uint8Array): void {
    this.chunks.push(blocks.slice());
  }
  flush(): void {}
  close(): void {}
  /** A copy of everything written (a plain Uint8Array: its slice() copies). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------- blocks

/** An option a caller adds as is: a code and its value (bytes, or a string written as UTF-8). */
export interface RawOption {
  code: number;
  value: Uint8Array | string;
}

/** A custom option (2988/2989, or the no-copy 19372/19373): an IANA Private Enterprise Number and data. */
export interface CustomOption {
  pen: number;
  data: Uint8Array | string;
  /** Tools that rewrite the file may drop it (19372/19373). Default false. */
  noCopy?: boolean;
}

const encoder = new TextEncoder();

/** Builds blocks in a reused buffer, one after another: header, body, options, trailing length; take()
 * hands over the whole blocks built since the last take(). A Node Buffer: strings are encoded straight
 * into it and bytes copied from other Buffers without a view. */
export class BlockBuilder {
  buf: Buffer = Buffer.alloc(4096);
  /** The same memory as a plain Uint8Array (its set() and subarray() cost less than a Buffer's). */
  mem = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** And as 32-bit words, for copies between 4-byte aligned places (blocks start at multiples of 4). */
  words = new Int32Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength >> 2);
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  /** Where the block being built starts. */
  private start = 0;
  private hasOptions = false;

  constructor(private readonly le: boolean) {}

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.mem = new Uint8Array(next.buffer, next.byteOffset, next.byteLength);
    this.words = new Int32Array(next.buffer, next.byteOffset, next.byteLength >> 2);
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  begin(type: number): void {
    this.pos = this.start;
    this.hasOptions = false;
    this.u32(type);
    this.u32(0); // total length, set by end()
  }

  u16(v: number): void {
    this.ensure(2);
    this.dv.setUint16(this.pos, v, this.le);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v >>> 0, this.le);
    this.pos += 4;
  }

  /** A 64-bit timestamp as pcapng lays it out: the high 32 bits first, then the low, each in file order. */
  ts64(v: bigint): void {
    this.u32(Number(v >> 32n));
    this.u32(Number(v & 0xffffffffn));
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.dv.setBigUint64(this.pos, v, this.le);
    this.pos += 8;
  }

  /** The u64 `hi * 2^32 + lo` in the file's byte order (no bigint). */
  u64Halves(lo: number, hi: number): void {
    this.ensure(8);
    this.dv.setUint32(this.pos + (this.le ? 0 : 4), lo, this.le);
    this.dv.setUint32(this.pos + (this.le ? 4 : 0), hi, this.le);
    this.pos += 8;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** `src[start..end)` as is. */
  copyFrom(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n <= 16) {
      // A few bytes: a loop costs less than the view set() needs.
      const m = this.mem;
      for (let i = 0, p = this.pos; i < n; i++) m[p + i] = src[start + i]!;
    } else this.mem.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** `src[start..start+n)`, 32-bit words, at `pos`, which must be a multiple of 4. */
  copyWords(src: Int32Array, start: number, n: number): void {
    this.ensure(4 * n);
    const w = this.words;
    let d = this.pos >> 2;
    for (let i = start, end = start + n; i < end; i++) w[d++] = src[i]!;
    this.pos += 4 * n;
  }

  /** A string as UTF-8 (no length, no padding). */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  /** Zero bytes up to the next multiple of 4. */
  pad(): void {
    const n = (4 - (this.pos & 3)) & 3;
    if (n === 0) return;
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = 0;
  }

  /** An option's code and a length set by optionEnd(); returns where the value starts. The caller writes
   * the value with the methods above, then calls optionEnd() with that start. */
  optionHeader(code: number): number {
    this.hasOptions = true;
    this.u16(code);
    this.u16(0);
    return this.pos;
  }

  /** Sets the length of the option whose value started at `start` and pads it to 4 bytes. */
  optionEnd(start: number): void {
    const len = this.pos - start;
    if (len > 0xffff) throw new RangeError(`pcapng option value too long (${len} bytes, at most 65535)`);
    this.dv.setUint16(start - 2, len, this.le);
    this.pad();
  }

  optString(code: number, s: string): void {
    const start = this.optionHeader(code);
    this.utf8(s);
    this.optionEnd(start);
  }

  optBytes(code: number, b: Uint8Array): void {
    const start = this.optionHeader(code);
    this.bytes(b);
    this.optionEnd(start);
  }

  optU8(code: number, v: number): void {
    const start = this.optionHeader(code);
    this.ensure(1);
    this.buf[this.pos++] = v;
    this.optionEnd(start);
  }

  optU32(code: number, v: number): void {
    const start = this.optionHeader(code);
    this.u32(v);
    this.optionEnd(start);
  }

  optU64(code: number, v: bigint): void {
    const start = this.optionHeader(code);
    this.u64(v);
    this.optionEnd(start);
  }

  optTs64(code: number, v: bigint): void {
    const start = this.optionHeader(code);
    this.ts64(v);
    this.optionEnd(start);
  }

  optCustom(c: CustomOption): void {
    const str = typeof c.data === "string";
    const code = str
      ? c.noCopy
        ? OPT_CUSTOM_STR_NOCOPY
        : OPT_CUSTOM_STR
      : c.noCopy
        ? OPT_CUSTOM_BIN_NOCOPY
        : OPT_CUSTOM_BIN;
    const start = this.optionHeader(code);
    this.u32(c.pen);
    this.bytes(typeof c.data === "string" ? encoder.encode(c.data) : c.data);
    this.optionEnd(start);
  }

  optRaw(o: RawOption): void {
    if (typeof o.value === "string") this.optString(o.code, o.value);
    else this.optBytes(o.code, o.value);
  }

  /** opt_endofopt when any option was written, the trailing length, and the length at the start: the
   * block is whole, the next begin() starts after it. */
  end(): void {
    if (this.hasOptions) {
      this.u16(OPT_ENDOFOPT);
      this.u16(0);
    }
    const total = this.pos - this.start + 4;
    this.u32(total);
    this.dv.setUint32(this.start + 4, total, this.le);
    this.start = this.pos;
  }

  /** Bytes of whole blocks built and not taken yet. */
  get pending(): number {
    return this.start;
  }

  /** The whole blocks built since the last take(), valid until the next begin(). A plain Uint8Array (a
   * sink may keep a copy with slice(), which on a Buffer would not copy). */
  take(): Uint8Array {
    const n = this.start;
    this.start = 0;
    this.pos = 0;
    return this.mem.subarray(0, n);
  }
}

// ---------------------------------------------------------------------------------------------- writer

/** The Section Header Block's options. */
export interface SectionInfo {
  /** shb_userappl, e.g. "ipft 0.1.0". */
  userappl: string;
  /** shb_os; default `${os.type()} ${os.release()}`. Empty string: none. */
  os?: string;
  /** shb_hardware; default the architecture and first CPU's model. Empty string: none. */
  hardware?: string;
  /** Section comments (opt_comment, repeated): ipft puts its command line here. */
  comments?: readonly string[];
}

/** What makes interfaces distinct: the same name in two network namespaces is two interfaces. */
export interface InterfaceKey {
  /** The device's name (skb->dev->name), or a placeholder such as "(none)". */
  name: string;
  /** The inode of its network namespace (as in /proc/PID/ns/net). */
  netns: number | bigint;
  /** The link type its packets' bytes are written in (LINKTYPE_*). */
  linktype: number;
  /** The device's ifindex, when known: two devices of one name and namespace (one replaced the other)
   * are two interfaces. */
  ifindex?: number;
}

export interface InterfaceDetails {
  /** if_description; default "NAME in netns INODE". */
  description?: string;
  /** if_os. */
  os?: string;
  /** The IDB's snaplen: longer packets are cut to it (their original length is kept). 0: no limit. */
  snaplen?: number;
}

export interface PacketInput {
  /** The id interfaceFor() returned. */
  interfaceId: number;
  /** Wall-clock time, nanoseconds since the Unix epoch (see clock.ts for bpf_ktime_get_ns). */
  timestampNs: bigint;
  /** The packet's bytes as captured (may be empty). */
  data: Uint8Array;
  /** The packet's whole length when `data` is only its start; default data.length. */
  originalLength?: number;
  /** opt_comment, one per string: the human-readable line first. */
  comments?: readonly string[];
  /** Written as one more comment, "ipft:" followed by this object as JSON (bigints as decimal strings). */
  meta?: Readonly<Record<string, unknown>>;
  /** epb_flags' direction bits. */
  direction?: Direction;
  /** epb_packetid: one id for one packet seen at several points (ipft: its packet id, output/packet-ids.ts). */
  packetId?: bigint;
  /** epb_dropcount: events lost between the previous packet and this one. */
  dropCount?: bigint | number;
  custom?: readonly CustomOption[];
  options?: readonly RawOption[];
}

export interface FinishInput {
  /** Events the tracer lost (the ring buffer was full): isb_ifdrop of the first interface's statistics. */
  lostEvents?: bigint | number;
  /** Comments on that statistics block. */
  comments?: readonly string[];
  /** isb_endtime when an interface saw no packet (ns since the epoch); default now. */
  endNs?: bigint;
}

interface InterfaceState {
  id: number;
  snaplen: number;
  packets: number;
  /** The first and last packet's timestamps as their 32-bit halves (-1: none yet). */
  firstHi: number;
  firstLo: number;
  lastHi: number;
  lastLo: number;
}

const halvesToBig = (hi: number, lo: number): bigint | undefined =>
  hi < 0 ? undefined : (BigInt(hi) << 32n) | BigInt(lo);

const jsonReplacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** The default shb_os and shb_hardware for this machine. */
export function hostSectionDefaults(): { os: string; hardware: string } {
  const model = cpus()[0]?.model?.trim();
  return { os: `${type()} ${release()}`, hardware: model ? `${arch()} ${model}` : arch() };
}

/**
 * Writes one pcapng section: the Section Header Block at once, an Interface Description Block the first
 * time an interface is used, one Enhanced Packet Block per packet, and at `finish()` an Interface
 * Statistics Block per interface.
 */
export class PcapngWriter {
  private readonly b: BlockBuilder;
  private readonly interfaces = new Map<string, InterfaceState>();
  private readonly byId: InterfaceState[] = [];
  private finished = false;
  /** Blocks are handed to the sink once this many bytes of them wait (and at flush()); 0: each at once. */
  private readonly batch: number;
  /** The interface of the block beginPacket() started, and its timestamp. */
  private open: InterfaceState | undefined;
  private openHi = 0;
  private openLo = 0;

  constructor(
    private readonly sink: BlockSink,
    section: SectionInfo,
    opts: { bigEndian?: boolean; batchBytes?: number } = {},
  ) {
    this.b = new BlockBuilder(!opts.bigEndian);
    this.batch = opts.batchBytes ?? 0;
    const host = hostSectionDefaults();
    const b = this.b;
    b.begin(BLOCK_SHB);
    b.u32(BYTE_ORDER_MAGIC);
    b.u16(1); // major version
    b.u16(0); // minor version
    b.u64(0xffffffffffffffffn); // section length: not known (-1)
    for (const c of section.comments ?? []) b.optString(OPT_COMMENT, c);
    const hardware = section.hardware ?? host.hardware;
    const os = section.os ?? host.os;
    if (hardware) b.optString(SHB_HARDWARE, hardware);
    if (os) b.optString(SHB_OS, os);
    b.optString(SHB_USERAPPL, section.userappl);
    this.commit();
  }

  /** The interface's id, writing its Interface Description Block the first time the key is seen. */
  interfaceFor(key: InterfaceKey, details: InterfaceDetails = {}): number {
    const k = `${key.linktype}\0${key.netns}\0${key.ifindex ?? ""}\0${key.name}`;
    const known = this.interfaces.get(k);
    if (known) return known.id;
    const snaplen = details.snaplen ?? 0;
    const b = this.b;
    b.begin(BLOCK_IDB);
    b.u16(key.linktype);
    b.u16(0); // reserved
    b.u32(snaplen);
    b.optString(IF_NAME, key.name);
    b.optString(IF_DESCRIPTION, details.description ?? `${key.name} in netns ${key.netns}`);
    b.optU8(IF_TSRESOL, TSRESOL_NS);
    if (details.os) b.optString(IF_OS, details.os);
    this.commit();
    const state: InterfaceState = {
      id: this.byId.length,
      snaplen,
      packets: 0,
      firstHi: -1,
      firstLo: 0,
      lastHi: -1,
      lastLo: 0,
    };
    this.interfaces.set(k, state);
    this.byId.push(state);
    return state.id;
  }

  /** One Enhanced Packet Block. */
  packet(p: PacketInput): void {
    const iface = this.byId[p.interfaceId];
    if (!iface) throw new RangeError(`pcapng: no interface ${p.interfaceId} (use interfaceFor first)`);
    const data =
      iface.snaplen > 0 && p.data.length > iface.snaplen ? p.data.subarray(0, iface.snaplen) : p.data;
    const b = this.b;
    b.begin(BLOCK_EPB);
    b.u32(p.interfaceId);
    b.ts64(p.timestampNs);
    b.u32(data.length);
    b.u32(Math.max(p.originalLength ?? p.data.length, data.length));
    b.bytes(data);
    b.pad();
    for (const c of p.comments ?? []) b.optString(OPT_COMMENT, c);
    if (p.meta) b.optString(OPT_COMMENT, META_PREFIX + JSON.stringify(p.meta, jsonReplacer));
    if (p.direction) b.optU32(EPB_FLAGS, p.direction === "inbound" ? DIRECTION_INBOUND : DIRECTION_OUTBOUND);
    if (p.dropCount !== undefined && p.dropCount !== 0 && p.dropCount !== 0n)
      b.optU64(EPB_DROPCOUNT, BigInt(p.dropCount));
    if (p.packetId !== undefined) b.optU64(EPB_PACKETID, p.packetId);
    for (const c of p.custom ?? []) b.optCustom(c);
    for (const o of p.options ?? []) b.optRaw(o);
    this.commit();
    this.counted(iface, Number(p.timestampNs >> 32n), Number(p.timestampNs & 0xffffffffn));
  }

  private counted(iface: InterfaceState, tsHi: number, tsLo: number): void {
    iface.packets++;
    if (iface.firstHi < 0) {
      iface.firstHi = tsHi;
      iface.firstLo = tsLo;
    }
    iface.lastHi = tsHi;
    iface.lastLo = tsLo;
  }

  /**
   * packet()'s fast path, for a caller that writes many: an Enhanced Packet Block whose header and packet
   * bytes (`src[start..start+capLen)`, cut to the interface's snaplen) are written here, the timestamp given
   * as its two 32-bit halves (ns since the epoch); the caller then writes its options with the builder this
   * returns (optionHeader, the value, optionEnd) and calls endPacket(). No object, no bigint per packet.
   */
  beginPacket(
    interfaceId: number,
    tsHi: number,
    tsLo: number,
    src: Uint8Array,
    start: number,
    capLen: number,
    originalLength: number,
  ): BlockBuilder {
    const iface = this.byId[interfaceId];
    if (!iface) throw new RangeError(`pcapng: no interface ${interfaceId} (use interfaceFor first)`);
    const cap = iface.snaplen > 0 && capLen > iface.snaplen ? iface.snaplen : capLen;
    const b = this.b;
    b.begin(BLOCK_EPB);
    b.u32(interfaceId);
    b.u32(tsHi);
    b.u32(tsLo);
    b.u32(cap);
    b.u32(Math.max(originalLength, cap));
    b.copyFrom(src, start, start + cap);
    b.pad();
    this.open = iface;
    this.openHi = tsHi;
    this.openLo = tsLo;
    return b;
  }

  /** Ends the block beginPacket() started and hands it to the sink. */
  endPacket(): void {
    const iface = this.open;
    if (!iface) throw new Error("pcapng: endPacket() without beginPacket()");
    this.open = undefined;
    this.commit();
    this.counted(iface, this.openHi, this.openLo);
  }

  /** A Custom Block (0x00000BAD, or 0x40000BAD when tools rewriting the file should drop it). */
  customBlock(pen: number, data: Uint8Array, opts: { noCopy?: boolean } = {}): void {
    const b = this.b;
    b.begin(opts.noCopy ? BLOCK_CUSTOM_NOCOPY : BLOCK_CUSTOM);
    b.u32(pen);
    b.bytes(data);
    b.pad();
    this.commit();
  }

  /** Events written so far on each interface, by id. */
  packetCounts(): bigint[] {
    return this.byId.map((s) => BigInt(s.packets));
  }

  /**
   * One Interface Statistics Block per interface (isb_starttime and isb_endtime: its first and last
   * packet, isb_usrdeliv: its packets), the lost events as isb_ifdrop of interface 0 (an interface named
   * "ipft" is declared if no packet came), then flushes the sink. Idempotent; the sink stays open.
   */
  finish(f: FinishInput = {}): void {
    if (this.finished) return;
    this.finished = true;
    const lost = BigInt(f.lostEvents ?? 0);
    // A file without an interface would end without a statistics block, which readers take for a file cut
    // short: a trace that saw nothing still says so, on an interface of its own.
    if (this.byId.length === 0)
      this.interfaceFor(
        { name: "ipft", netns: 0, linktype: LINKTYPE_RAW },
        { description: "no packet was traced" },
      );
    const now = f.endNs ?? BigInt(Date.now()) * 1_000_000n;
    const b = this.b;
    for (const s of this.byId) {
      const first = halvesToBig(s.firstHi, s.firstLo) ?? now;
      const last = halvesToBig(s.lastHi, s.lastLo) ?? now;
      b.begin(BLOCK_ISB);
      b.u32(s.id);
      b.ts64(last);
      if (s.id === 0) for (const c of f.comments ?? []) b.optString(OPT_COMMENT, c);
      b.optTs64(ISB_STARTTIME, first);
      b.optTs64(ISB_ENDTIME, last);
      if (s.id === 0) b.optU64(ISB_IFDROP, lost);
      b.optU64(ISB_USRDELIV, BigInt(s.packets));
      this.commit();
    }
    this.flush();
  }

  /** finish() and close the sink. */
  close(f: FinishInput = {}): void {
    try {
      this.finish(f);
    } finally {
      this.sink.close();
    }
  }

  /** Hands the blocks built to the sink, and the sink writes what it buffers. */
  flush(): void {
    if (this.b.pending > 0) this.sink.write(this.b.take());
    this.sink.flush();
  }

  /** A block is whole: to the sink now, or with the next ones. */
  private commit(): void {
    this.b.end();
    if (this.b.pending > this.batch) this.sink.write(this.b.take());
  }
}
