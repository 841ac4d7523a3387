// -w FILE: every event as one Enhanced Packet Block of a pcapng file (src/pcapng/format.ts describes the
// layout), written beside the text output. Each EPB carries:
//   comment 1  the stream output's line (the script's dump text or the captures included)
//   comment 2  "ipft:" and the -o json object of the event (same keys, same text; not the packet's bytes and
//              lengths: they are the block's data), then "ipft_track" and "ipft_stack" when the event has
//              them (for --read: grouping and stacks as live), plus, when there is a
//              script or captures, "ipft_text": their text as the stream line shows it (`--read` prints
//              it as is: the script is not needed to read the file)
//   epb_packetid the skb's address, epb_dropcount the events lost since the previous block
//   the packet's bytes when the record carries them (packetOf); else an empty Exported PDU (4 zero bytes,
//   link type 252): a zero-length IP packet would show as malformed in Wireshark, this shows as nothing
// Interfaces: one per link type, named "ipft": the record carries no device or network namespace yet.
// The section's comments: the command line, and "ipft:" with what --read needs to print as the live run
// did (the tracer). Blocks are buffered and the file is flushed after each drain of the ring buffer.
import { MonotonicClock } from "../pcapng/clock.js";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_WIRESHARK_UPPER_PDU,
  META_PREFIX,
  OPT_COMMENT,
} from "../pcapng/format.js";
import { type BlockSink, PcapngOutputError, PcapngWriter, type RawOption } from "../pcapng/writer.js";
import {
  copyData,
  DATA_SIZE,
  OFF_SKB,
  OFF_TRACK,
  readSkb,
  readStackDepth,
  readTimestamp,
  stackAddrs,
} from "../record/record.js";
import { SafeDumper } from "./dump-text.js";
import { ExtrasText } from "./extras-text.js";
import { JsonLines } from "./json.js";
import { type PacketBytes, packetOf } from "./packet-of.js";
import { StreamLines, withDumpText } from "./stream.js";
import type { Dumper, StackNamer, Symbolizer, VerdictNamer, Writer } from "./types.js";
import { hexOfHalves, timestampDecimal } from "./u64-text.js";
import { VerdictText } from "./verdict-text.js";

/** The key of the "ipft:" comment that holds the script's (or captures') text. Always the last key. */
export const TEXT_KEY = "ipft_text";
/** Keys right after the json fields, for --read only: the track id (grouping packets as the live run did)
 * and the named stack frames (the packet's bytes are the block's own data, not repeated in the comment). */
export const TRACK_KEY = "ipft_track";
export const STACK_KEY = "ipft_stack";
const K_TRACK = JSON.stringify(TRACK_KEY);
const K_STACK = JSON.stringify(STACK_KEY);
/** The "ipft:" section comment's version: --read refuses a newer one. */
export const FILE_FORMAT = 1;

/** What the section's "ipft:" comment holds. */
export interface FileInfo {
  format: number;
  tracer: string;
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
}

/** A names source for a file closed before tracing started (it has no event to name). */
const NO_NAMES: PcapngEventNames = { symbolizer: { resolve: () => undefined } };

const NO_BYTES = new Uint8Array(4);
const encoder = new TextEncoder();
/** Events whose dump text waits for one crossing into the script. */
const DUMP_BLOCK = 4096;

interface Waiting {
  line: string;
  json: string;
  ts: bigint;
  skb: bigint;
  packet: PacketBytes | undefined;
}

export class PcapngOutput implements Writer {
  count = 0;
  readonly dropped = 0;
  /** The first write failure; later events are not written. */
  error: PcapngOutputError | undefined;
  private readonly w: PcapngWriter;
  private readonly clock: MonotonicClock;
  private stream!: StreamLines;
  private json!: JsonLines;
  private extras!: ExtrasText;
  private dumper: SafeDumper | undefined;
  private onError: ((e: PcapngOutputError) => void) | undefined;
  private readonly snaplen: number;
  /** Interface ids by link: no bytes, Ethernet, raw IP. */
  private readonly ifaces = [-1, -1, -1];
  private lostTotal = 0;
  private skbLo = -1;
  private skbHi = -1;
  private skbText = "";
  private scratch = new Uint8Array(4096);
  private readonly opts: RawOption[] = [
    { code: OPT_COMMENT, value: "" },
    { code: OPT_COMMENT, value: "" },
  ];
  private dropsBefore = 0;
  private waiting: Waiting[] = [];
  private readonly data = new Uint8Array(DUMP_BLOCK * DATA_SIZE);

  /** Writes the section header at once: an output that takes no write fails here, before tracing. */
  constructor(
    private readonly sink: BlockSink,
    o: PcapngOutputOptions,
  ) {
    this.clock = o.clock ?? MonotonicClock.measure();
    this.snaplen = o.snaplen ?? 0;
    const info: FileInfo = { format: FILE_FORMAT, tracer: o.tracer };
    const comments = o.commandLine ? [o.commandLine] : [];
    comments.push(META_PREFIX + JSON.stringify(info));
    this.w = new PcapngWriter(sink, { userappl: o.userappl, comments });
    this.w.flush();
  }

  /** Ready for events, named as the text output names them. */
  start(n: PcapngEventNames): this {
    const verdicts = n.verdicts ? new VerdictText(n.verdicts) : undefined;
    this.stream = new StreamLines(n.symbolizer, verdicts);
    this.json = new JsonLines(n.symbolizer, verdicts);
    this.extras = new ExtrasText(n.stacks);
    this.dumper = n.dumper ? new SafeDumper(n.dumper) : undefined;
    this.onError = n.onError;
    return this;
  }

  write(dv: DataView, off: number): void {
    if (this.error) return;
    if (!this.stream) this.start(NO_NAMES);
    this.count++;
    // The packet id's text once for both lines, and once per packet while its events come in a row.
    const lo = dv.getUint32(off + OFF_SKB, true);
    const hi = dv.getUint32(off + OFF_SKB + 4, true);
    if (lo !== this.skbLo || hi !== this.skbHi) {
      this.skbLo = lo;
      this.skbHi = hi;
      this.skbText = hexOfHalves(lo, hi);
    }
    const ts = timestampDecimal(dv, off);
    const line = this.stream.line(dv, off, this.skbText, ts);
    const json = this.json.line(dv, off, this.skbText, ts) + this.internalKeys(dv, off);
    if (this.dumper) {
      const p = packetOf(dv, off);
      copyData(dv, off, this.data, this.waiting.length * DATA_SIZE);
      this.waiting.push({
        line,
        json,
        ts: readTimestamp(dv, off),
        skb: readSkb(dv, off),
        packet: p && { ...p, data: p.data.slice() },
      });
      if (this.waiting.length === DUMP_BLOCK) this.writeWaiting();
      return;
    }
    this.emit(line, `${META_PREFIX}${json}}`, readTimestamp(dv, off), readSkb(dv, off), packetOf(dv, off));
  }

  /** `,"ipft_track":"0x..","ipft_stack":[...]` where the record has them. */
  private internalKeys(dv: DataView, off: number): string {
    let s = "";
    const lo = dv.getUint32(off + OFF_TRACK, true);
    const hi = dv.getUint32(off + OFF_TRACK + 4, true);
    if (lo !== 0 || hi !== 0) s += `,${K_TRACK}:"${hexOfHalves(lo, hi)}"`;
    if (readStackDepth(dv, off) > 0)
      s += `,${K_STACK}:${JSON.stringify(this.extras.stack(stackAddrs(dv, off)))}`;
    return s;
  }

  /** After a drain of the ring buffer: the events so far go to the file; `lost` is the session's count
   * of lost events so far (the next event says how many were lost before it). */
  drained(lost?: number): void {
    if (lost !== undefined) this.noteLost(lost);
    this.writeWaiting();
    if (!this.error) this.guard(() => this.w.flush());
  }

  /** The session's lost events so far (ends up in the statistics block as isb_ifdrop). */
  noteLost(total: number): void {
    if (total > this.lostTotal) {
      this.dropsBefore += total - this.lostTotal;
      this.lostTotal = total;
    }
  }

  /** Writes what waits, the statistics blocks, and closes the file (standard output stays open). */
  finish(): void {
    this.writeWaiting();
    if (this.error) {
      try {
        this.sink.close();
      } catch {
        // already failed: the first error is the one reported
      }
      return;
    }
    this.guard(() => this.w.close({ lostEvents: this.lostTotal }));
  }

  private writeWaiting(): void {
    const n = this.waiting.length;
    if (n === 0) return;
    const events = this.waiting;
    this.waiting = [];
    if (this.error) return;
    const block = this.data.subarray(0, n * DATA_SIZE);
    const texts = this.dumper!.many(block, "text");
    const frags = this.dumper!.many(block, "json");
    for (let i = 0; i < n; i++) {
      const e = events[i]!;
      const t = texts[i] ?? "";
      const meta = `${META_PREFIX}${e.json}${frags[i] ?? ""},"${TEXT_KEY}":${JSON.stringify(t)}}`;
      this.emit(withDumpText(e.line, t), meta, e.ts, e.skb, e.packet);
    }
  }

  private emit(line: string, meta: string, ts: bigint, skb: bigint, p: PacketBytes | undefined): void {
    if (this.error) return;
    const kind = p === undefined ? 0 : p.link === "ethernet" ? 1 : 2;
    let iface = this.ifaces[kind]!;
    if (iface < 0) iface = this.ifaces[kind] = this.guard(() => this.declare(kind));
    if (this.error) return;
    try {
      this.w.packet({
        interfaceId: iface,
        timestampNs: this.clock.toRealtime(ts),
        data: p?.data ?? NO_BYTES,
        originalLength: p?.wireLen ?? NO_BYTES.length,
        options: this.comments(line, meta),
        packetId: skb,
        dropCount: this.dropsBefore,
      });
    } catch (e) {
      this.guard(() => {
        throw e;
      });
    }
    this.dropsBefore = 0;
  }

  /** The two comments as opt_comment options, encoded in one call (most lines are ASCII: split by
   * length; otherwise each on its own). */
  private comments(line: string, meta: string): RawOption[] {
    const both = line + meta;
    if (this.scratch.length < both.length * 3) this.scratch = new Uint8Array(both.length * 3 + 1024);
    const { read, written } = encoder.encodeInto(both, this.scratch);
    if (read === written) {
      this.opts[0]!.value = this.scratch.subarray(0, line.length);
      this.opts[1]!.value = this.scratch.subarray(line.length, written);
    } else {
      this.opts[0]!.value = line;
      this.opts[1]!.value = meta;
    }
    return this.opts;
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
