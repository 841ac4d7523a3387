// --drops: only packets that were dropped reach the writer, whole journey included. Each open packet's
// events are held (copied: the ring's space is reused) until its verdict: a drop sends them all on, a
// consume discards them. Held events are bounded; past the bound the oldest open packet is let go, and
// the count is reported. What continues a packet after its verdict (its free path, a function's return)
// follows a drop straight through and is discarded after a consume.
import { continuesPacket, OFF_FLAGS, recordLength, VERDICT_DROP } from "../record/record.js";
import { packetKeyOffset } from "./packet-key.js";
import type { Writer } from "./types.js";
import { verdictOf } from "./verdict-text.js";

/** Events held at most (128 bytes each: 32 MiB). */
export const MAX_HELD_EVENTS = 1 << 18;
/** Dropped packets remembered for the events that follow their verdict (the free path comes right after). */
const RECENT_DROPS = 1024;

interface Held {
  hi: number;
  lo: number;
  events: Uint8Array[];
  /** Their packet ids (output/packet-ids.ts). */
  ids: number[];
}

export class DropsOnly implements Writer {
  /** Packets let go before their verdict because the bound was reached. */
  letGo = 0;
  private readonly open = new Map<string, Held>();
  private held = 0;
  /** Keys of the last packets dropped, oldest first. */
  private readonly recentDrops = new Set<string>();

  constructor(
    private readonly inner: Writer,
    private readonly maxHeld = MAX_HELD_EVENTS,
  ) {}

  get count(): number {
    return this.inner.count;
  }

  get dropped(): number {
    return this.inner.dropped;
  }

  write(dv: DataView, off: number, packet: number): void {
    const k = packetKeyOffset(dv, off);
    const lo = dv.getUint32(k, true);
    const hi = dv.getUint32(k + 4, true);
    const key = `${hi}:${lo}`;
    const v = verdictOf(dv, off);
    const p = this.open.get(key);
    if (v) {
      if (p) {
        this.open.delete(key);
        this.held -= p.events.length;
      }
      if (v.kind !== VERDICT_DROP) return;
      p?.events.forEach((e, i) => {
        this.inner.write(new DataView(e.buffer, e.byteOffset, e.length), 0, p.ids[i]!);
      });
      this.inner.write(dv, off, packet);
      this.recentDrops.add(key);
      if (this.recentDrops.size > RECENT_DROPS)
        this.recentDrops.delete(this.recentDrops.values().next().value!);
      return;
    }
    if (!p && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) {
      if (this.recentDrops.has(key)) this.inner.write(dv, off, packet);
      return;
    }
    this.recentDrops.delete(key);
    // The whole record: its packet bytes and stack (--snaplen, --stack) too.
    const len = recordLength(dv, off);
    const copy = new Uint8Array(len);
    copy.set(new Uint8Array(dv.buffer, dv.byteOffset + off, len));
    if (p) {
      p.events.push(copy);
      p.ids.push(packet);
    } else this.open.set(key, { hi, lo, events: [copy], ids: [packet] });
    if (++this.held > this.maxHeld) this.letGoOldest();
  }

  private letGoOldest(): void {
    const [key, p] = this.open.entries().next().value as [string, Held];
    this.open.delete(key);
    this.held -= p.events.length;
    this.letGo++;
  }

  finish(): void {
    this.inner.finish();
  }

  /** The notice for packets let go, if any. */
  notice(): string | undefined {
    return this.letGo > 0
      ? `--drops held at most ${this.maxHeld} events: ${this.letGo} packets were let go before their verdict (a drop among them would be missing)`
      : undefined;
  }
}
