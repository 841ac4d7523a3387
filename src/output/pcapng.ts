// -w FILE: every event as one Enhanced Packet Block of a pcapng file, written beside the text output.
// Trace file format 2 (FILE_FORMAT). Little endian; one section:
//   SHB  shb_userappl "ipft VERSION", shb_os, shb_hardware; opt_comment: the command line, then
//        `ipft:{"format":2,"tracer":"function"}` (or "function_graph"): what --read needs
//   IDB  one per (device, network namespace, link type), on first use: if_name the device's name, or "ipft"
//        for events without a device (or records without the device part); if_description "netns INODE"
//        (the namespace's inode, 0 when unknown); link type Exported PDU (252) for events without packet
//        bytes, Ethernet (1), raw IP (101); if_tsresol 9; snaplen: the session's --snaplen (what the programs
//        cut packets to). The device is the record's device part
//        (record/parts/device.ts: ifindex, namespace, name), so two devices of one name in two namespaces, or one name
//        reused by another ifindex, are two interfaces
//   EPB  one per event, in the order they were read; timestamp: the record's (bpf_ktime_get_ns) plus the
//        wall clock's offset measured when the file was opened. Data: the packet's bytes the record carries
//        (packetOf's), else an empty Exported PDU (4 zero bytes: a zero-length IP packet would show as
//        malformed in Wireshark, this shows as nothing). Options, in this order:
//     opt_comment    the stream output's line (`PACKET 0xSKB TS CPU MODULE FUNCTION`, the verdict, then the
//                    script's dump() text or the captures'): what Wireshark shows and filters on
//     custom 2989    PEN 32473 (IPFT_PEN), a u32 (LE) kind: 2 (NAMES), then a JSON object (UTF-8) naming
//                    what this event is the first of the file to use; present only then:
//                      {"functions":[["0xADDR","MODULE","NAME"],..],"reasons":[[N,"NAME"],..],
//                       "locations":[["0xADDR","func+0xoff"],..],"frames":[["0xADDR","func+0xoff"],..]}
//                    (each key only when it has entries; an address the symbolizer could not name has none)
//     custom 2989    PEN 32473, a u32 (LE) kind: 1 (EVENT), then the trace record as the kernel wrote it (record.ts,
//                    little endian): its first 64 bytes (not the module's data: the script's text
//                    follows when there is one), then the parts it has that the file keeps here, in the
//                    registry's order (record/parts/index.ts): its device part (FLAG_DEVICE, 24 bytes),
//                    its stack_depth return addresses (8 bytes each); the packet bytes are the block's data. When the run had a script or captures:
//                    then a u32 (LE) byte length and the dump text (UTF-8), then to the end the -o json
//                    fragment (`,"key":value...`, UTF-8)
//     epb_dropcount  events lost since the previous block, when there were
//     epb_packetid   the packet id (1, 2, 3... in the order packets first appear: output/packet/tracker.ts),
//                    the one json and stream print; --read takes it from here
//   ISB  at the end, one per interface: its first and last event, its events, and on interface 0 the
//        session's lost events (isb_ifdrop) and, when the trace missed more than that, an opt_comment
//        `ipft:{"unseen":{...}}` (output/unseen.ts: runs the kernel skipped, attach points that failed,
//        packets the tracking table let go; only the non-zero ones)
// --read (pcapng-replay.ts) rebuilds each record from the EVENT option and the names, and prints it
// through the very writers of a live run. Blocks are built in one reused buffer and the file is flushed
// after each drain of the ring buffer.
import { recordingLookups } from "../explain/recorded-lookups.js";
import { MonotonicClock } from "../pcapng/clock.js";
import {
  EPB_DROPCOUNT,
  EPB_PACKETID,
  IPFT_KIND_EVENT,
  IPFT_KIND_NAMES,
  IPFT_PEN,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_WIRESHARK_UPPER_PDU,
  META_PREFIX,
  OPT_COMMENT,
  OPT_CUSTOM_BIN,
} from "../pcapng/format.js";
import { type Machine, thisMachine } from "../pcapng/machine.js";
import { type BlockSink, PcapngOutputError } from "../pcapng/sinks.js";
import { PcapngWriter } from "../pcapng/writer.js";
import { deviceInterface } from "../record/parts/device.js";
import { DEVICE, PACKET, PARTS, partStart, readDevice, recordLength, STACK } from "../record/parts/index.js";
import { stackHalves } from "../record/parts/stack.js";
import {
  copyData,
  DATA_SIZE,
  HIGH_WORD,
  LINK_NETWORK,
  OFF_DATA,
  OFF_TSTAMP,
  readCapLen,
  readLink,
  readStackDepth,
  readWireLen,
} from "../record/record.js";
import { recordingDropDetails } from "./recorded-drop-details.js";
import { StreamLines } from "./stream.js";
import { StreamLineBytes } from "./stream-bytes.js";
import { SafeDumper } from "./text/dump-text.js";
import { hexOfHalves } from "./text/u64-text.js";
import type { DropDetails, Dumper, StackNamer, Symbolizer, VerdictNamer, Writer } from "./types.js";
import { VerdictText } from "./verdict-text.js";

/** The "ipft:" section comment's version: --read reads this one and READABLE_FORMATS. 1: each event as
 * an "ipft:" JSON comment; 2: the trace record in a custom option, names once; 3: epb_packetid is the
 * packet id (in 2, the skb's address). */
export const FILE_FORMAT = 3;
/** Formats --read reads (a format 2 file's packets are numbered as they are read). */
export const READABLE_FORMATS: readonly number[] = [2, 3];

/** What the section's "ipft:" comment holds. */
export interface FileInfo {
  format: number;
  tracer: string;
  /** The machine that traced (multi-host.md): its host name and /proc/sys/kernel/random/boot_id. */
  host?: string;
  boot_id?: string;
  /** realtime - monotonic (ns, decimal text) as measured when the file was opened, and its uncertainty:
   * what the EPBs' timestamps added to the records' own, for placing several machines on one time line. */
  clock_offset_ns?: string;
  clock_uncertainty_ns?: string;
}

/** The NAMES option's object. */
export interface FileNames {
  functions?: [string, string, string][];
  reasons?: [number, string][];
  locations?: [string, string][];
  frames?: [string, string][];
  /** What the live run read in the system for drops' facts: [question, answer as JSON]. */
  lookups?: [string, string][];
}

/** The file's own settings, known before tracing starts. */
export interface PcapngOutputOptions {
  /** Record timestamps (bpf_ktime_get_ns) to wall-clock time; default measured now. */
  clock?: MonotonicClock;
  /** shb_userappl, e.g. "ipft 0.1.0". */
  userappl: string;
  /** The command line, as the section's first comment. */
  commandLine?: string;
  tracer: string;
  /** Bytes of a packet kept (0: all). */
  snaplen?: number;
  /** The machine the file says it was traced on; default this one. */
  machine?: Machine;
  /** Names network namespaces in the interfaces' descriptions (once per interface); none: inodes only. */
  namespaces?: { text(inode: number): string };
}

/** How events are named, known once the programs are built. */
export interface PcapngEventNames {
  symbolizer: Symbolizer;
  verdicts?: VerdictNamer | undefined;
  /** The script's dump() (or the captures' decoder): run a second time for the file's text. */
  dumper?: Dumper | undefined;
  /** Called once when a write fails (full disk, closed pipe): the file takes no more events. */
  onError?: (e: PcapngOutputError) => void;
  /** Names for --stack's frames. */
  stacks?: StackNamer | undefined;
  /** A drop's own facts (--nft-trace), in its event's comment too. */
  dropDetails?: DropDetails | undefined;
}

/** A names source for a file closed before tracing started (it has no event to name). */
const NO_NAMES: PcapngEventNames = { symbolizer: { resolve: () => undefined } };

const NO_BYTES = new Uint8Array(4);
/** The parts the file keeps in ipft's event option, in the registry's order (the packet bytes are the
 * block's data). */
const OPTION_PARTS = PARTS.filter((p) => p.file === "option");
/** The link types of the three kinds of events: without packet bytes, from the mac header, raw IP. */
const LINKTYPES = [LINKTYPE_WIRESHARK_UPPER_PDU, LINKTYPE_ETHERNET, LINKTYPE_RAW];
/** Events whose dump text waits for one crossing into the script. */
const DUMP_BLOCK = 4096;
const TWO32 = 0x100000000;

const big = (lo: number, hi: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** A set of u64 addresses kept as their 32-bit halves: no bigint to ask. */
class AddrSet {
  private readonly byLow = new Map<number, number | number[]>();
  /** True the first time `hi * 2^32 + lo` is seen. */
  add(lo: number, hi: number): boolean {
    const v = this.byLow.get(lo);
    if (v === hi) return false;
    if (v === undefined) {
      this.byLow.set(lo, hi);
      return true;
    }
    if (typeof v === "number") {
      this.byLow.set(lo, [v, hi]);
      return true;
    }
    if (v.includes(hi)) return false;
    v.push(hi);
    return true;
  }
}

export class PcapngOutput implements Writer {
  count = 0;
  readonly overflow = 0;
  /** The first write failure; later events are not written. */
  error: PcapngOutputError | undefined;
  private readonly w: PcapngWriter;
  /** realtime - monotonic as the two 32-bit halves of a u64 (two's complement). */
  private readonly offLo: number;
  private readonly offHi: number;
  /** Wall clock minus the records' clock, as the file's timestamps use it. */
  readonly clockOffsetNs: bigint;
  private line!: StreamLineBytes;
  private names!: PcapngEventNames;
  private dumper: SafeDumper | undefined;
  private onError: ((e: PcapngOutputError) => void) | undefined;
  private readonly snaplen: number;
  /** Interface ids by link (no bytes, Ethernet, raw IP) for records without the device part. */
  private readonly ifaces = [-1, -1, -1];
  /** Interface ids by link, ifindex and namespace, then the name's bytes (a device renamed is another). */
  private readonly devIfaces = new Map<string, number>();
  private lostTotal = 0;
  /** The statistics block's comments (what the trace missed beside lost events). */
  private statsComments: string[] = [];
  private dropsBefore = 0;
  /** Names asked for since the last event was written: the line's writers ask once per function (their
   * name caches) and once per verdict, so what they ask is what this event is the first to use. */
  private fresh: FileNames | undefined;
  private readonly seenLocations = new Set<bigint>();
  private readonly seenReasons = new Set<number>();
  private readonly seenFrames = new AddrSet();
  /** The records' memory as a Buffer (bytes are copied from it into the block). */
  private srcAb: ArrayBufferLike | undefined;
  private srcBytes: Uint8Array = NO_BYTES;
  /** The same memory as 32-bit words, for the record's head (records start at multiples of 8). */
  private srcWords: Int32Array = new Int32Array(0);
  // With a dump(): records wait here, whole, until the script runs for all of them.
  private held = new Uint8Array(64 * 1024);
  private heldDv = new DataView(this.held.buffer, this.held.byteOffset, this.held.byteLength);
  private heldUsed = 0;
  private heldAt: number[] = [];
  private heldIds: number[] = [];
  private readonly data = new Uint8Array(DUMP_BLOCK * DATA_SIZE);

  /** Writes the section header at once: an output that takes no write fails here, before tracing. */
  private readonly namespaces: PcapngOutputOptions["namespaces"];

  constructor(
    private readonly sink: BlockSink,
    o: PcapngOutputOptions,
  ) {
    const clock = (o.clock ?? MonotonicClock.measure()).offset;
    const offset = BigInt.asUintN(64, clock.offsetNs);
    this.clockOffsetNs = BigInt.asIntN(64, offset);
    this.offLo = Number(offset & 0xffffffffn);
    this.offHi = Number(offset >> 32n);
    this.snaplen = o.snaplen ?? 0;
    this.namespaces = o.namespaces;
    const m = o.machine ?? thisMachine();
    const info: FileInfo = {
      format: FILE_FORMAT,
      tracer: o.tracer,
      host: m.host,
      boot_id: m.bootId,
      clock_offset_ns: clock.offsetNs.toString(),
      clock_uncertainty_ns: clock.uncertaintyNs.toString(),
    };
    const comments = o.commandLine ? [o.commandLine] : [];
    comments.push(META_PREFIX + JSON.stringify(info));
    // Blocks go to the sink 64 KiB at a time, and at each drain's flush.
    this.w = new PcapngWriter(sink, { userappl: o.userappl, comments }, { batchBytes: 64 * 1024 });
    this.w.flush();
  }

  /** Ready for events, named as the text output names them. */
  start(n: PcapngEventNames): this {
    const symbolizer: Symbolizer = {
      resolve: (addr) => {
        const sym = n.symbolizer.resolve(addr);
        if (sym) this.freshList("functions").push([hex(addr), sym.module, sym.name]);
        return sym;
      },
    };
    const v = n.verdicts;
    const verdicts: VerdictNamer | undefined = v && {
      reason: (r) => {
        const name = v.reason(r);
        if (!this.seenReasons.has(r)) {
          this.seenReasons.add(r);
          this.freshList("reasons").push([r, name]);
        }
        return name;
      },
      location: (a) => {
        const name = v.location(a);
        if (!this.seenLocations.has(a)) {
          this.seenLocations.add(a);
          this.freshList("locations").push([hex(a), name]);
        }
        return name;
      },
      ...(v.lookups
        ? { lookups: recordingLookups(v.lookups, (key, json) => this.freshList("lookups").push([key, json])) }
        : {}),
    };
    this.line = new StreamLineBytes(
      new StreamLines(
        symbolizer,
        verdicts
          ? new VerdictText(
              verdicts,
              n.dropDetails &&
                recordingDropDetails(n.dropDetails, (key, json) =>
                  this.freshList("lookups").push([key, json]),
                ),
            )
          : undefined,
      ),
    );
    this.names = n;
    this.dumper = n.dumper ? new SafeDumper(n.dumper) : undefined;
    this.onError = n.onError;
    return this;
  }

  write(dv: DataView, off: number, packet: number): void {
    if (this.error) return;
    if (!this.line) this.start(NO_NAMES);
    this.count++;
    if (this.dumper) this.hold(dv, off, packet);
    else this.emit(dv, off, packet, undefined, undefined);
  }

  /** Keeps a copy of the record (its extras too) until the script's text is made. */
  private hold(dv: DataView, off: number, packet: number): void {
    const len = this.lengthOf(dv, off);
    if (this.heldUsed + len > this.held.length) {
      const next = new Uint8Array(Math.max(this.held.length * 2, this.heldUsed + len));
      next.set(this.held.subarray(0, this.heldUsed));
      this.held = next;
      this.heldDv = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
    const at = dv.byteOffset + off;
    this.held.set(this.bytesOf(dv).subarray(at, at + len), this.heldUsed);
    copyData(dv, off, this.data, this.heldAt.length * DATA_SIZE);
    this.heldAt.push(this.heldUsed);
    this.heldIds.push(packet);
    this.heldUsed += len;
    if (this.heldAt.length === DUMP_BLOCK) this.writeHeld();
  }

  /** After a drain of the ring buffer: the events so far go to the file; `lost` is the session's count
   * of lost events so far (the next event says how many were lost before it). */
  drained(lost?: number): void {
    if (lost !== undefined) this.noteLost(lost);
    this.writeHeld();
    if (!this.error) this.guard(() => this.w.flush());
  }

  /** The session's lost events so far (ends up in the statistics block as isb_ifdrop). */
  noteLost(total: number): void {
    if (total > this.lostTotal) {
      this.dropsBefore += total - this.lostTotal;
      this.lostTotal = total;
    }
  }

  /** What else the trace missed (output/unseen.ts's file fields), kept in the statistics block. */
  noteUnseen(fields: Record<string, unknown> | undefined): void {
    this.statsComments = fields ? [META_PREFIX + JSON.stringify(fields)] : [];
  }

  /** Writes what waits, the statistics blocks, and closes the file (standard output stays open). */
  finish(): void {
    this.writeHeld();
    if (this.error) {
      try {
        this.sink.close();
      } catch {
        // already failed: the first error is the one reported
      }
      return;
    }
    this.guard(() => this.w.close({ lostEvents: this.lostTotal, comments: this.statsComments }));
  }

  private writeHeld(): void {
    const n = this.heldAt.length;
    if (n === 0) return;
    const at = this.heldAt;
    const ids = this.heldIds;
    this.heldAt = [];
    this.heldIds = [];
    this.heldUsed = 0;
    if (this.error) return;
    const block = this.data.subarray(0, n * DATA_SIZE);
    const texts = this.dumper!.many(block, "text");
    const frags = this.dumper!.many(block, "json");
    for (let i = 0; i < n; i++) this.emit(this.heldDv, at[i]!, ids[i]!, texts[i] ?? "", frags[i] ?? "");
  }

  /** The record's whole length (its parts too), within the memory it is in. */
  private lengthOf(dv: DataView, off: number): number {
    return Math.min(recordLength(dv, off), dv.byteLength - off);
  }

  /** cap_len, or 0 for a record shorter than it says (as packetOf: such bytes are not trusted). */
  private capOf(dv: DataView, off: number): number {
    const cap = readCapLen(dv, off);
    return cap > 0 && off + partStart(dv, off, PACKET) + cap > dv.byteLength ? 0 : cap;
  }

  private bytesOf(dv: DataView): Uint8Array {
    if (dv.buffer !== this.srcAb) {
      this.srcAb = dv.buffer;
      this.srcBytes = new Uint8Array(dv.buffer);
      this.srcWords = new Int32Array(dv.buffer, 0, dv.buffer.byteLength >> 2);
    }
    return this.srcBytes;
  }

  /** One event's block; `text` and `json`: the script's, when the run has one. */
  private emit(
    dv: DataView,
    off: number,
    packet: number,
    text: string | undefined,
    json: string | undefined,
  ): void {
    if (this.error) return;
    const cap = this.capOf(dv, off);
    const kind = cap === 0 ? 0 : readLink(dv, off) === LINK_NETWORK ? 2 : 1;
    let iface: number;
    if (DEVICE.size(dv, off) > 0) iface = this.deviceIface(dv, off, kind);
    else {
      iface = this.ifaces[kind]!;
      if (iface < 0) iface = this.ifaces[kind] = this.guard(() => this.declare(kind));
    }
    if (this.error) return;
    try {
      const src = this.bytesOf(dv);
      const at = dv.byteOffset + off;
      let lo = dv.getUint32(off + OFF_TSTAMP, true) + this.offLo;
      let carry = 0;
      if (lo >= TWO32) {
        lo -= TWO32;
        carry = 1;
      }
      const hi = (dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true) + this.offHi + carry) >>> 0;
      const b =
        cap === 0
          ? this.w.beginPacket(iface, hi, lo, NO_BYTES, 0, 4, 4)
          : this.w.beginPacket(
              iface,
              hi,
              lo,
              src,
              at + partStart(dv, off, PACKET),
              cap,
              Math.max(readWireLen(dv, off), cap),
            );
      // The stream line (its names asked for: `fresh` has what this event is the first to use).
      const c = b.optionHeader(OPT_COMMENT);
      this.line.write(dv, off, packet, b);
      if (text) {
        b.u8(0x20);
        b.utf8(text);
      }
      b.optionEnd(c);
      const names =
        this.fresh !== undefined || readStackDepth(dv, off) > 0 ? this.newNames(dv, off) : undefined;
      if (names !== undefined) {
        const o = b.optionHeader(OPT_CUSTOM_BIN);
        b.u32(IPFT_PEN);
        b.u32(IPFT_KIND_NAMES);
        b.utf8(names);
        b.optionEnd(o);
      }
      const o = b.optionHeader(OPT_CUSTOM_BIN);
      b.u32(IPFT_PEN);
      b.u32(IPFT_KIND_EVENT);
      // The record as the kernel wrote it, but for the module's 64 bytes (--read never needs them: a
      // script's text travels with its event), then each part the file keeps in this option, as it is.
      if ((at & 3) === 0) b.copyWords(this.srcWords, at >> 2, OFF_DATA >> 2);
      else b.copyFrom(src, at, at + OFF_DATA);
      for (const part of OPTION_PARTS) {
        const size = part.size(dv, off);
        if (size === 0) continue;
        const start = partStart(dv, off, part);
        b.copyFrom(src, at + start, at + start + size);
        if (part.filled) b.zeroTail(size - Math.min(size, part.filled(dv, off, start)));
      }
      if (text !== undefined) {
        const len = b.pos;
        b.u32(0);
        b.utf8(text);
        b.dv.setUint32(len, b.pos - len - 4, true);
        b.utf8(json ?? "");
      }
      b.optionEnd(o);
      if (this.dropsBefore > 0) b.optU64(EPB_DROPCOUNT, BigInt(this.dropsBefore));
      const p = b.optionHeader(EPB_PACKETID);
      b.u64Halves(packet >>> 0, Math.floor(packet / 0x100000000));
      b.optionEnd(p);
      this.w.endPacket();
    } catch (e) {
      this.guard(() => {
        throw e;
      });
    }
    this.dropsBefore = 0;
  }

  /** The list of new names of one kind, for the next event's NAMES option. */
  private freshList<K extends keyof FileNames>(k: K): NonNullable<FileNames[K]> {
    this.fresh ??= {};
    let list = this.fresh[k];
    if (!list) {
      list = [] as NonNullable<FileNames[K]>;
      this.fresh[k] = list;
    }
    return list as NonNullable<FileNames[K]>;
  }

  /** The NAMES option's JSON for what this event is the first to use (the names its line asked for, its
   * stack's new frames), or undefined. */
  private newNames(dv: DataView, off: number): string | undefined {
    const stacks = this.names.stacks;
    if (readStackDepth(dv, off) > 0 && stacks)
      stackHalves(dv, off, partStart(dv, off, STACK), (aLo, aHi) => {
        if (this.seenFrames.add(aLo, aHi))
          this.freshList("frames").push([hexOfHalves(aLo, aHi), stacks.frame(big(aLo, aHi))]);
      });
    const n = this.fresh;
    this.fresh = undefined;
    return n && JSON.stringify(n);
  }

  /** The interface of a record with the device part: one per (ifindex, namespace, name, link). */
  private deviceIface(dv: DataView, off: number, kind: number): number {
    const d = readDevice(dv, off)!;
    const key = `${kind}:${d.ifindex}:${d.netns}:${d.name}`;
    const known = this.devIfaces.get(key);
    if (known !== undefined) return known;
    const ns = d.netns !== 0 ? this.namespaces?.text(d.netns) : undefined;
    const { name, description } = deviceInterface(d, kind !== 0, ns);
    const id = this.guard(() =>
      this.w.interfaceFor(
        { name, netns: d.netns, linktype: LINKTYPES[kind]!, ifindex: d.ifindex },
        { description, snaplen: this.snaplen },
      ),
    );
    if (!this.error) this.devIfaces.set(key, id);
    return id;
  }

  private declare(kind: number): number {
    return this.w.interfaceFor(
      {
        name: "ipft",
        netns: 0,
        linktype: kind === 0 ? LINKTYPE_WIRESHARK_UPPER_PDU : kind === 1 ? LINKTYPE_ETHERNET : LINKTYPE_RAW,
      },
      {
        description:
          kind === 0
            ? "ipft trace events without packet bytes (the device is not recorded)"
            : "ipft trace events (the device is not recorded)",
        snaplen: this.snaplen,
      },
    );
  }

  /** Runs a write; a failure is kept, reported once, and ends the file's writing. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!this.error) {
        this.error =
          e instanceof PcapngOutputError
            ? e
            : new PcapngOutputError(`pcapng output: ${e instanceof Error ? e.message : String(e)}`);
        this.onError?.(this.error);
      }
      return -1 as T;
    }
  }
}

export { PcapngOutputError };
