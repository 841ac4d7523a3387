// One file of `--read A B C`, read block by block: a piece of the file at a time (PIECE bytes, more when
// one block is larger) is parsed (pcapng/reader.ts) and turned into records (output/pcapng-replay.ts), and
// its events are handed out one by one in file order. A piece is let go once none of its events is held
// (merge.ts holds the events of packets not finished yet): memory is a few pieces, not the file.
import { closeSync, openSync, readSync } from "node:fs";
import { PacketTracker } from "../output/packet/tracker.js";
import type { FileInfo } from "../output/pcapng.js";
import { FileNameTable, fileInfo, noEvents, type Replay, replayOf } from "../output/pcapng-replay.js";
import {
  type ParseState,
  type PcapngContents,
  parseMeta,
  parsePcapng,
  startState,
  unreadable,
} from "../pcapng/reader.js";
import { OFF_TSTAMP, readTimestamp } from "../record/record.js";

const PIECE = 256 << 10;

export class FileEvents {
  /** The section's "ipft:" comment (of the file's first section). */
  readonly info: FileInfo;
  /** The piece the current event is in: its records, dumper, namers. */
  replay: Replay;
  dv: DataView;
  /** The current event: its record's offset in dv, its packet id in the file, its timestamp (shifted). */
  off = 0;
  packetId = 0;
  ts = 0n;
  /** Events handed out so far; isb_ifdrop summed; whether the file ended inside a block or without the
   * statistics -w writes at its end. */
  count = 0;
  lostEvents = 0n;
  truncated = false;
  statistics = 0;
  /** The "ipft:" fields of the file's statistics (what the trace could not see), once read. */
  unseenMeta: Record<string, unknown> | undefined;
  /** The earliest timestamp of the pieces read so far (unshifted), and the file's wall-clock offset (its
   * first event's). */
  firstNs: bigint | undefined;
  offsetNs: bigint | undefined;
  /** Added to each timestamp: onto the merged time line (merge.ts). */
  shift = 0n;

  private readonly fd: number;
  private readonly state: ParseState = startState();
  private readonly names = new FileNameTable();
  private readonly numbering: PacketTracker | undefined;
  private foreign = 0;
  /** The file offset of the next piece, and its first bytes (read with the last piece). */
  private at = 0;
  private rest = new Uint8Array(0);
  /** The whole file was read; the file was closed. */
  private read = false;
  private closed = false;
  private i = -1;

  constructor(
    readonly path: string,
    private readonly pieceBytes = PIECE,
  ) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      throw unreadable(path, e);
    }
    try {
      // The first piece holds the section header (reader.ts says what a file that is not pcapng is,
      // replayOf what a file ipft did not write is).
      const first = this.piece()!;
      this.info = fileInfo(first)!;
      this.replay = this.replayOf(first);
      this.numbering = this.replay.packetIds ? undefined : new PacketTracker();
    } catch (e) {
      this.close();
      throw e;
    }
    this.dv = view(this.replay);
  }

  /** Moves to the next event; false at the end of the file (which is then closed). */
  next(): boolean {
    while (++this.i >= this.replay.count) {
      const p = this.piece();
      if (!p) {
        this.close();
        if (this.count === 0 && this.foreign > 0) throw noEvents(this.path, this.foreign);
        return false;
      }
      this.replay = this.replayOf({ ...p, sections: [this.state.section!] });
      this.dv = view(this.replay);
      this.i = -1;
    }
    const r = this.replay;
    this.off = r.offsets[this.i]!;
    this.packetId = r.packetIds ? r.packetIds[this.i]! : this.numbering!.of(this.dv, this.off);
    this.ts = readTimestamp(this.dv, this.off);
    if (this.shift !== 0n) {
      this.ts += this.shift;
      this.dv.setBigUint64(this.off + OFF_TSTAMP, BigInt.asUintN(64, this.ts), true);
    }
    this.count++;
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private replayOf(c: PcapngContents): Replay {
    const r = replayOf(c, this.path, this.names);
    this.foreign += r.foreign;
    if (r.count > 0) {
      this.offsetNs ??= r.clock.offsetNs;
      if (this.firstNs === undefined || r.clock.firstNs < this.firstNs) this.firstNs = r.clock.firstNs;
    }
    return r;
  }

  /** The next piece of whole blocks, parsed; undefined at the end of the file. */
  private piece(): PcapngContents | undefined {
    if (this.read) return undefined;
    let size = this.pieceBytes;
    for (;;) {
      // What the last piece ended inside (the start of a block), then the file's next bytes: read in
      // order, so that a pipe (`--read <(...)`) reads too.
      const buf = new Uint8Array(Math.max(size, this.rest.length + 1));
      buf.set(this.rest);
      let n = this.rest.length;
      let last = false;
      try {
        while (n < buf.length) {
          const got = readSync(this.fd, buf, n, buf.length - n, null);
          if (got === 0) {
            last = true;
            break;
          }
          n += got;
        }
      } catch (e) {
        throw unreadable(this.path, e);
      }
      if (n === 0) {
        if (this.at === 0) parsePcapng(buf.subarray(0, 0), this.path); // says the file is empty
        this.read = true;
        return undefined;
      }
      this.state.base = this.at;
      const before = { ...this.state };
      const contents = parsePcapng(buf.subarray(0, n), this.path, this.state);
      const cut = contents.truncatedAt;
      if (cut && !last) {
        this.rest = buf.slice(cut.offset - this.at, n);
        if (cut.offset === this.at) {
          // One block larger than the piece: read it whole.
          Object.assign(this.state, before);
          size = Math.max(size * 2, (cut.need ?? 0) + 12);
          continue;
        }
        contents.truncated = false;
        this.at = cut.offset;
      } else {
        this.rest = new Uint8Array(0);
        this.at += n;
        if (last) {
          this.read = true;
          this.truncated ||= contents.truncated;
        }
      }
      this.lostEvents += contents.lostEvents;
      this.statistics += contents.statistics.length;
      // What the trace missed besides lost events: interface 0's statistics comment (output/unseen.ts).
      const st = contents.statistics.find((x) => x.interface.id === 0) ?? contents.statistics[0];
      if (st) this.unseenMeta = parseMeta(st.comments);
      return contents;
    }
  }
}

const view = (r: Replay) => new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
