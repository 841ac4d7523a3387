// Counts packets and how they ended, event by event, for the summary after tracing. A packet is an skb
// address (or its track id: output/packet-key.ts) from its first event to its verdict; the next event at
// that address starts a new packet (the kernel reuses freed skbs), except the events that continue the
// ended one (its free path, a function's return: record.ts continuesPacket). Open packets are held in bounded memory:
// past the bound the oldest is let go, counted as without a verdict where it was last seen. (On recent
// kernels a packet delivered to a socket often ends on a path without a verdict tracepoint, so most
// packets of a long trace may never close.)
import { continuesPacket, OFF_FLAGS, OFF_FUNC, VERDICT_DROP } from "../record/record.js";
import { packetKeyOffset } from "./packet-key.js";
import type { Sink, Symbolizer } from "./types.js";
import { UNKNOWN } from "./types.js";
import { type VerdictFields, type VerdictText, verdictOf } from "./verdict-text.js";

/** Open packets held at most; beyond, the oldest is let go (counted as without a verdict). */
export const MAX_OPEN_PACKETS = 1 << 16;

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
  /** Packets let go before a verdict because too many were open at once (counted as without one). */
  letGo = 0;
  private readonly open = new Map<number, Open>();
  private openCount = 0;
  /** Where the packets let go were last seen: function address halves and count, by the low half. */
  private readonly lastSeenLetGo = new Map<number, { hi: number; lo: number; n: number }[]>();
  /** "REASON at place" -> count, in first-seen order. */
  private readonly drops = new Map<string, number>();

  constructor(
    private readonly text: VerdictText,
    private readonly maxOpen = MAX_OPEN_PACKETS,
  ) {
    // Room for closed packets' keys too, so a full ring rarely lets go of a packet before the bound.
    this.qLo = new Int32Array(2 * maxOpen);
    this.qHi = new Uint32Array(2 * maxOpen);
  }

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
      // After its packet's verdict, its free path and returns: not a packet of their own.
      if (v === undefined && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) return undefined;
      this.seen++;
      if (v === undefined) {
        if (this.openCount >= this.maxOpen || this.qLen === this.qLo.length) this.letGoOldest();
        const first = this.open.get(lo);
        e = { hi, funcLo: 0, funcHi: 0, next: first };
        this.open.set(lo, e);
        this.openCount++;
        const tail = (this.qHead + this.qLen++) % this.qLo.length;
        this.qLo[tail] = lo;
        this.qHi[tail] = hi;
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

  /** Packets in the order they opened (a ring of keys; a key whose packet has closed since is skipped):
   * a Map's own order would cost a walk over its deleted entries each time. */
  private readonly qLo: Int32Array;
  private readonly qHi: Uint32Array;
  private qHead = 0;
  private qLen = 0;

  /** Lets go of the oldest packet still open. */
  private letGoOldest(): void {
    while (this.qLen > 0) {
      const lo = this.qLo[this.qHead]!;
      const hi = this.qHi[this.qHead]!;
      this.qHead = (this.qHead + 1) % this.qLo.length;
      this.qLen--;
      let prev: Open | undefined;
      let e = this.open.get(lo);
      while (e !== undefined && e.hi !== hi) {
        prev = e;
        e = e.next;
      }
      if (e === undefined) continue; // closed by its verdict already
      if (prev) prev.next = e.next;
      else if (e.next) this.open.set(lo, e.next);
      else this.open.delete(lo);
      this.openCount--;
      this.letGo++;
      const list = this.lastSeenLetGo.get(e.funcLo | 0);
      const at = list?.find((x) => x.hi === e!.funcHi);
      if (at) at.n++;
      else if (list) list.push({ hi: e.funcHi, lo: e.funcLo, n: 1 });
      else this.lastSeenLetGo.set(e.funcLo | 0, [{ hi: e.funcHi, lo: e.funcLo, n: 1 }]);
      return;
    }
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
    const unfinished = this.openCount + this.letGo;
    if (unfinished > 0) {
      // Counted by function address first (a few hundred of them), named once each.
      const byAddr = new Map<string, { hi: number; lo: number; n: number }>();
      const add = (hi: number, lo: number, n: number) => {
        const k = `${hi}:${lo}`;
        const a = byAddr.get(k);
        if (a) a.n += n;
        else byAddr.set(k, { hi, lo, n });
      };
      for (const first of this.open.values())
        for (let e: Open | undefined = first; e !== undefined; e = e.next) add(e.funcHi, e.funcLo, 1);
      for (const list of this.lastSeenLetGo.values()) for (const x of list) add(x.hi, x.lo, x.n);
      const last = new Map<string, number>();
      for (const a of byAddr.values()) {
        const s = symbolizer.resolve((BigInt(a.hi) << 32n) | BigInt(a.lo >>> 0)) ?? UNKNOWN;
        last.set(s.name, (last.get(s.name) ?? 0) + a.n);
      }
      const by = [...last].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} (${n})`);
      lines.push(`${unfinished} without a verdict, last seen at: ${by.join(", ")}`);
    }
    return lines;
  }

  writeSummary(err: Sink, symbolizer: Symbolizer): void {
    for (const l of this.summary(symbolizer)) err.write(`${l}\n`);
  }
}
