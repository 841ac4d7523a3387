// Counts packets and how they ended, event by event, for the summary after tracing. A packet is an skb
// address (or its track id: output/packet-key.ts) from its first event to its verdict; the next event at that address starts a new packet (the
// kernel reuses freed skbs). Open packets are held by address in bounded memory.
import { OFF_FUNC, VERDICT_DROP } from "../record/record.js";
import { packetKeyOffset } from "./packet-key.js";
import type { Sink, Symbolizer } from "./types.js";
import { UNKNOWN } from "./types.js";
import { type VerdictFields, type VerdictText, verdictOf } from "./verdict-text.js";

/** Open packets held at most; beyond, new packets are counted but not followed to their verdict. */
export const MAX_OPEN_PACKETS = 1 << 20;

interface Open {
  hi: number;
  funcLo: number;
  funcHi: number;
  next: Open | undefined;
}

export class PacketLedger {
  seen = 0;
  dropped = 0;
  consumed = 0;
  /** Packets not followed because too many were open at once. */
  untracked = 0;
  private readonly open = new Map<number, Open>();
  private openCount = 0;
  /** "REASON at place" -> count, in first-seen order. */
  private readonly drops = new Map<string, number>();

  constructor(
    private readonly text: VerdictText,
    private readonly maxOpen = MAX_OPEN_PACKETS,
  ) {}

  /** One event; returns its verdict when it has one. */
  event(dv: DataView, off: number): VerdictFields | undefined {
    // Int32 keys: V8 keeps them as small integers, several times faster than keys above 2^31.
    const k = packetKeyOffset(dv, off);
    const lo = dv.getInt32(k, true);
    const hi = dv.getUint32(k + 4, true);
    let prev: Open | undefined;
    let e = this.open.get(lo);
    while (e !== undefined && e.hi !== hi) {
      prev = e;
      e = e.next;
    }
    const v = verdictOf(dv, off);
    if (e === undefined) {
      this.seen++;
      if (v === undefined) {
        if (this.openCount >= this.maxOpen) this.untracked++;
        else {
          const first = this.open.get(lo);
          this.open.set(lo, { hi, funcLo: 0, funcHi: 0, next: first });
          this.openCount++;
          e = this.open.get(lo)!;
        }
      }
    }
    if (e !== undefined) {
      e.funcLo = dv.getUint32(off + OFF_FUNC, true);
      e.funcHi = dv.getUint32(off + OFF_FUNC + 4, true);
    }
    if (v !== undefined) {
      this.count(v);
      if (e !== undefined) {
        if (prev) prev.next = e.next;
        else if (e.next) this.open.set(lo, e.next);
        else this.open.delete(lo);
        this.openCount--;
      }
    }
    return v;
  }

  private count(v: VerdictFields): void {
    if (v.kind !== VERDICT_DROP) {
      this.consumed++;
      return;
    }
    this.dropped++;
    // Drops come in runs of the same reason and place: count them as numbers, name them at the end.
    if (
      this.run === undefined ||
      v.reason !== this.run.reason ||
      v.locLo !== this.run.locLo ||
      v.locHi !== this.run.locHi
    ) {
      this.closeRun();
      this.run = v;
    }
    this.runCount++;
  }

  private run: VerdictFields | undefined;
  private runCount = 0;

  private closeRun(): void {
    if (this.run === undefined || this.runCount === 0) return;
    const key = this.text.place(this.run);
    this.drops.set(key, (this.drops.get(key) ?? 0) + this.runCount);
    this.runCount = 0;
  }

  /** `5 packets: 3 dropped, 1 consumed, 1 without a verdict` and, when there were drops, a line with them
   * by reason and place, most first; packets still open say where they were last seen. */
  summary(symbolizer: Symbolizer): string[] {
    this.closeRun();
    if (this.seen === 0) return []; // the "no packet was seen" hint says it better
    const none = this.seen - this.dropped - this.consumed;
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
    const lines = [
      `${plural(this.seen, "packet")}: ${this.dropped} dropped, ${this.consumed} consumed, ${none} without a verdict`,
    ];
    if (this.drops.size > 0) {
      const by = [...this.drops].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} (${n})`);
      lines.push(`${this.dropped} dropped: ${by.join(", ")}`);
    }
    if (this.openCount > 0) {
      const last = new Map<string, number>();
      for (const first of this.open.values()) {
        for (let e: Open | undefined = first; e !== undefined; e = e.next) {
          const s = symbolizer.resolve((BigInt(e.funcHi) << 32n) | BigInt(e.funcLo)) ?? UNKNOWN;
          last.set(s.name, (last.get(s.name) ?? 0) + 1);
        }
      }
      const by = [...last].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} (${n})`);
      lines.push(`${this.openCount} without a verdict, last seen at: ${by.join(", ")}`);
    }
    if (this.untracked > 0)
      lines.push(
        `${this.untracked} packets were not followed to their end (more than ${this.maxOpen} open at once)`,
      );
    return lines;
  }

  writeSummary(err: Sink, symbolizer: Symbolizer): void {
    for (const l of this.summary(symbolizer)) err.write(`${l}\n`);
  }
}
