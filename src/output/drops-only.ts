// --drops: only packets that were dropped reach the writer, whole journey included. Each open packet's
// events are held (copied, as bytes: the ring's space is reused; held-events.ts) until its verdict: a drop
// sends them all on, a consume discards them. A packet also ends without a verdict when its skb address
// turns up under another track id: the kernel freed the skb and gave it to a new packet (a drop would have
// come first, at kfree_skb), so its events are discarded then. Held events are bounded in bytes and in
// packets; past a bound the oldest packet is let go, and the summary says how many were and whether any
// of them was dropped after all. What continues a packet after its verdict (its free path, a function's
// return: the packet tracker's PACKET_AFTER, packet/tracker.ts) follows a drop straight through and is
// discarded after a consume.

import { recordLength } from "../record/parts/index.js";
import {
  continuesPacket,
  HIGH_WORD,
  OFF_FLAGS,
  OFF_SKB,
  OFF_TRACK,
  OFF_VERDICT,
  VERDICT_DROP,
} from "../record/record.js";
import { HeldEvents, LET_GO_MEMORY, LET_GO_TABLE } from "./held-events.js";
import { packetKeyOffset } from "./packet/key.js";
import { RecentKeys } from "./packet/recent-keys.js";
import { PACKET_AFTER, PACKET_NEW, PacketTracker } from "./packet/tracker.js";
import type { Writer } from "./types.js";

/** Bytes of held events at most (default of --drops-memory). */
export const MAX_HELD_BYTES = 64 << 20;
/** Packets held at once at most. */
export const MAX_HELD_PACKETS = 1 << 16;
/** Packets let go remembered, to tell when one of them is dropped after all. */
const RECENT_LET_GO = 1 << 16;

export class DropsOnly implements Writer {
  /** Dropped packets whose earlier events had been let go: printed from their verdict on. */
  cut = 0;
  /** Packets released because their address went to a new packet (they ended without a verdict). */
  ended = 0;
  private readonly held: HeldEvents;
  /** Which packet an event belongs to, and whether it continues one after its verdict. */
  private readonly tracker: PacketTracker;
  /** Per tracker place: 1 when the packet was dropped (what continues it is written). */
  private readonly droppedAt: Uint8Array;
  private readonly letGoKeys = new RecentKeys(RECENT_LET_GO);

  /** Whether a drop is a failure (explain/): a benign one (not a failure) is left out like a consume. */
  isFailure: ((dv: DataView, off: number) => boolean) | undefined;

  /** `numbering`: the tracker that numbers each event just before it is written here (numbered()), read
   * instead of tracking the events again; without it, a tracker of its own. */
  constructor(
    private readonly inner: Writer,
    maxBytes = MAX_HELD_BYTES,
    maxPackets = MAX_HELD_PACKETS,
    private readonly numbering?: PacketTracker,
  ) {
    this.tracker = numbering ?? new PacketTracker();
    this.droppedAt = new Uint8Array(this.tracker.places);
    this.held = new HeldEvents(maxBytes, maxPackets);
    // A packet's key: its track id, or its skb address without tracking (packet/key.ts).
    this.held.onLetGo = (tLo, tHi, sLo, sHi) =>
      (tLo | tHi) !== 0 ? this.letGoKeys.add(tLo, tHi) : this.letGoKeys.add(sLo, sHi);
  }

  get count(): number {
    return this.inner.count;
  }

  get overflow(): number {
    return this.inner.overflow;
  }

  /** Packets let go before their verdict: at the byte bound, at the packet bound. */
  get letGo(): { memory: number; table: number } {
    return { memory: this.held.letGo[LET_GO_MEMORY]!, table: this.held.letGo[LET_GO_TABLE]! };
  }

  /** Packets and bytes held now, and the most bytes held at once. */
  get holding(): { packets: number; bytes: number; peakBytes: number } {
    return { packets: this.held.packets, bytes: this.held.bytes, peakBytes: this.held.peakBytes };
  }

  /** `packet`: the event's packet id (output/packet/tracker.ts). A held packet's events all have its id, the
   * one its verdict comes with, so the held bytes need not keep it. */
  write(dv: DataView, off: number, packet: number): void {
    const sLo = dv.getInt32(off + OFF_SKB, true);
    const sHi = dv.getInt32(off + OFF_SKB + HIGH_WORD, true);
    const tLo = dv.getInt32(off + OFF_TRACK, true);
    const tHi = dv.getInt32(off + OFF_TRACK + HIGH_WORD, true);
    const k = packetKeyOffset(dv, off);
    const kLo = dv.getInt32(k, true);
    const kHi = dv.getInt32(k + HIGH_WORD, true);
    const verdict = dv.getUint32(off + OFF_VERDICT, true);
    const t = this.tracker;
    if (this.numbering === undefined) t.of(dv, off);
    if (t.state === PACKET_NEW) this.droppedAt[t.place] = 0;
    let e = this.held.find(sLo, sHi);
    if (e >= 0 && !this.held.sameTrack(e, tLo, tHi)) {
      // The address's packet ended where no verdict was traced; a new one has it now.
      this.held.release(e);
      this.ended++;
      e = -1;
    }
    if (verdict !== 0) {
      if (verdict === VERDICT_DROP && (this.isFailure?.(dv, off) ?? true)) {
        if (e >= 0) this.held.forEach(e, (v, o) => this.inner.write(v, o, packet));
        if (this.letGoKeys.has(kLo, kHi)) this.cut++;
        this.inner.write(dv, off, packet);
        this.droppedAt[t.place] = 1;
      }
      if (e >= 0) this.held.release(e);
      this.letGoKeys.delete(kLo, kHi);
      return;
    }
    if (e < 0 && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) {
      if (t.state === PACKET_AFTER && this.droppedAt[t.place] !== 0) this.inner.write(dv, off, packet);
      return;
    }
    // The whole record: its packet bytes and stack (--snaplen, --stack) too.
    this.held.hold(dv, off, recordLength(dv, off), e, sLo, sHi, tLo, tHi);
  }

  finish(): void {
    this.inner.finish();
  }

  /** The notice for packets let go, if any. */
  notice(): string | undefined {
    const { memory, table } = this.letGo;
    if (memory + table === 0) return undefined;
    const why = [
      memory > 0 ? `${memory} at the ${mib(this.held.maxBytes)} memory bound (--drops-memory)` : "",
      table > 0 ? `${table} at the bound of ${this.held.maxPackets} packets held at once` : "",
    ].filter(Boolean);
    const cut =
      this.cut > 0
        ? `${this.cut} of them ${this.cut === 1 ? "was" : "were"} dropped later, printed without the events let go`
        : "none of them was seen dropped later";
    return `--drops let go of ${memory + table} packets' events before their verdict (${why.join(", ")}); ${cut}`;
  }
}

function mib(n: number): string {
  return n % (1 << 20) === 0 ? `${n / (1 << 20)} MiB` : `${n} bytes`;
}
