// Which packets of several trace files are one packet, decided as the events go by on the merged time
// line. A file's packet (a segment: its packet id's events, up to one whose bytes say it is another
// packet) is one journey with the other files' packets of its signature (signature.ts) when each of those
// files has one packet of it. A signature two packets of one file share (a clone for a raw socket, a resend
// with the same bytes) says nothing of which of them is the other files' packet: those are kept apart, and
// counted as ambiguous.
//
// Held: the packets of a signature until none of its events came for `windowNs` of the time line, then
// decided and let go (a packet without a signature: alone, let go the same way); and every event, in the
// merged order, until its packet is decided: events leave in that order (emit), so what is held is the
// events of the last window and of the packets still going on. A packet whose events are further apart
// than the window on one machine, or two copies of one signature further apart, are taken as two packets.
import { Fifo } from "./fifo.js";
import { TimeHeap } from "./time-heap.js";

/** One packet's whole journey, once decided: where it ended (the file of its latest event) and whether
 * that machine dropped it (a failure: failedDrop). `id`, `lastHost` and `crossed` are the merge's. */
export interface Journey {
  endFile: number;
  dropped: boolean;
  /** Its packet id (0 until its first event is written), the file of its last event written (-1), and
   * whether it changed machine. */
  id: number;
  lastHost: number;
  crossed: boolean;
}

interface Segment {
  file: number;
  packetId: number;
  sig: string | undefined;
  group: Group;
  /** Its latest event's timestamp, and whether it had a drop that is a failure. */
  endTs: bigint;
  failedDrop: boolean;
  journey: Journey | undefined;
}

/** The segments of one signature (or one segment without a signature) until decided. */
interface Group {
  sig: string | undefined;
  segs: Segment[];
  lastTs: bigint;
  /** Decided, or taken into another group: its place in the live queue is void. */
  gone: boolean;
}

/** One event as the matcher needs it; `item` is what emit gets back. */
export interface MatchEvent<T> {
  file: number;
  packetId: number;
  ts: bigint;
  sig: string | undefined;
  failedDrop: boolean;
  item: T;
}

export class JourneyWindow<T> {
  /** Packets whose match was ambiguous (kept apart); journeys decided. */
  ambiguous = 0;
  journeys = 0;
  /** The most events held at once. */
  peakHeld = 0;

  private readonly open: Map<number, Segment>[] = [];
  private readonly bySig = new Map<string, Group>();
  /** Undecided groups, each once, by their last event's time as it was when put in (a group seen since
   * is put back by its new time when its turn comes). */
  private readonly live = new TimeHeap<Group>();
  /** Events not emitted yet, in the merged order. */
  private readonly queue = new Fifo<{ item: T; seg: Segment }>();
  private now = 0n;

  constructor(
    private readonly windowNs: bigint,
    private readonly emit: (item: T, journey: Journey) => void,
  ) {}

  /** The next event of the merged time line. */
  add(e: MatchEvent<T>): void {
    if (e.ts > this.now) this.now = e.ts;
    // What went quiet a window ago is decided first: this event is not theirs.
    for (
      let at = this.live.peekTime();
      at !== undefined && at + this.windowNs < this.now;
      at = this.live.peekTime()
    ) {
      const g = this.live.pop()!;
      if (g.gone) continue;
      if (this.quiet(g)) this.decide(g);
      else this.live.push(g, g.lastTs);
    }
    let open = this.open[e.file];
    if (!open) {
      open = new Map();
      this.open[e.file] = open;
    }
    let seg = open.get(e.packetId);
    // One gone quiet is decided before it takes more (the heap may not have come to it yet).
    if (seg && this.quiet(seg.group)) {
      this.decide(seg.group);
      seg = undefined;
    }
    if (!seg || (e.sig !== undefined && seg.sig !== undefined && e.sig !== seg.sig)) {
      seg = this.segment(e);
      open.set(e.packetId, seg);
    } else if (e.sig !== undefined && seg.sig === undefined) this.sign(seg, e.sig, e.ts);
    if (e.ts >= seg.endTs) seg.endTs = e.ts;
    if (e.failedDrop) seg.failedDrop = true;
    this.touch(seg.group, e.ts);
    this.queue.push({ item: e.item, seg });
    this.peakHeld = Math.max(this.peakHeld, this.held);
    this.drain();
  }

  /** Events held now, waiting for their packets to be decided. */
  get held(): number {
    return this.queue.length;
  }

  /** The end of the inputs: everything is decided and emitted. */
  finish(): void {
    for (let g = this.live.pop(); g; g = this.live.pop()) if (!g.gone) this.decide(g);
    this.drain();
  }

  private segment(e: MatchEvent<T>): Segment {
    const seg: Segment = {
      file: e.file,
      packetId: e.packetId,
      sig: undefined,
      group: undefined as unknown as Group,
      endTs: e.ts,
      failedDrop: false,
      journey: undefined,
    };
    if (e.sig !== undefined) this.sign(seg, e.sig, e.ts);
    else {
      seg.group = this.group(undefined, e.ts);
      seg.group.segs.push(seg);
    }
    return seg;
  }

  /** The segment's signature, now known: into its group. */
  private sign(seg: Segment, sig: string, ts: bigint): void {
    seg.sig = sig;
    const alone = seg.group;
    let g = this.bySig.get(sig);
    if (g && this.quiet(g)) {
      this.decide(g);
      g = undefined;
    }
    if (!g) {
      if (alone) {
        alone.sig = sig;
        this.bySig.set(sig, alone);
        return;
      }
      g = this.group(sig, ts);
      this.bySig.set(sig, g);
    }
    if (alone) {
      alone.gone = true;
      this.touch(g, alone.lastTs);
    }
    g.segs.push(seg);
    seg.group = g;
  }

  private group(sig: string | undefined, ts: bigint): Group {
    const g: Group = { sig, segs: [], lastTs: ts, gone: false };
    this.live.push(g, ts);
    return g;
  }

  /** No event of it for a window. */
  private quiet(g: Group): boolean {
    return g.lastTs + this.windowNs < this.now;
  }

  private touch(g: Group, ts: bigint): void {
    if (ts > g.lastTs) g.lastTs = ts;
  }

  private decide(g: Group): void {
    g.gone = true;
    if (g.sig !== undefined && this.bySig.get(g.sig) === g) this.bySig.delete(g.sig);
    for (const s of g.segs) {
      const open = this.open[s.file]!;
      if (open.get(s.packetId) === s) open.delete(s.packetId);
    }
    if (g.segs.length === 1) {
      this.journeyOf(g.segs);
      return;
    }
    const byFile = new Map<number, Segment[]>();
    for (const s of g.segs) {
      const same = byFile.get(s.file);
      if (same) same.push(s);
      else byFile.set(s.file, [s]);
    }
    // The files with one packet of it are joined; a file with several keeps them apart.
    const sure: Segment[] = [];
    for (const segs of byFile.values()) {
      if (segs.length === 1) sure.push(segs[0]!);
      else {
        for (const s of segs) this.journeyOf([s]);
        if (byFile.size > 1) this.ambiguous += segs.length;
      }
    }
    if (sure.length > 0) this.journeyOf(sure);
  }

  /** One journey of these segments (of different files): it ends in its latest event's file (the later
   * file on a tie, as the files' events are taken in their order). */
  private journeyOf(segs: Segment[]): void {
    let end = segs[0]!;
    for (const s of segs) if (s.endTs > end.endTs || (s.endTs === end.endTs && s.file > end.file)) end = s;
    const j: Journey = { endFile: end.file, dropped: end.failedDrop, id: 0, lastHost: -1, crossed: false };
    for (const s of segs) s.journey = j;
    this.journeys++;
  }

  /** Emits the held events whose packets are decided, in order, up to the first that is not. */
  private drain(): void {
    for (let e = this.queue.peek(); e?.seg.journey; e = this.queue.peek()) {
      this.queue.shift();
      this.emit(e.item, e.seg.journey);
    }
  }
}
