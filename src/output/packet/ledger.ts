// Counts packets and how they ended, event by event, for the summary after tracing: packets as the tracker
// (tracker.ts) tells them, counted at their first event (an event that would continue an ended packet
// starts none: it is counted with the next event at its key that does), and where each one still open was
// last seen. Open packets are held in bounded memory (the tracker's): past the bound the oldest is let go,
// counted as without a verdict where it was last seen. (On recent kernels a packet delivered to a socket
// often ends on a path without a verdict tracepoint, so most packets of a long trace may never close.)
import { type Explanation, explanationText } from "../../explain/explanation.js";
import { continuesPacket, HIGH_WORD, OFF_FLAGS, OFF_FUNC, VERDICT_DROP } from "../../record/record.js";
import type { KernelPacketCounts, Sink, Symbolizer } from "../types.js";
import { UNKNOWN } from "../types.js";
import { isDeliveryPoint, type VerdictFields, type VerdictText, verdictOf } from "../verdict-text.js";
import { MAX_TRACKED, PACKET_AFTER, PACKET_NEW, PacketTracker } from "./tracker.js";

export class PacketLedger {
  seen = 0;
  dropped = 0;
  consumed = 0;
  /** Packets let go before a verdict at the tracker's bound (counted as without one). */
  letGo = 0;
  /** Made at the first event() (with tracking only verdicts are counted: no packet is tracked here). */
  private tracker: PacketTracker | undefined;
  /** Per place (tracker.ts): the function the packet was last seen at, and whether it was counted. */
  private fnLo = new Uint32Array(0);
  private fnHi = new Uint32Array(0);
  private counted = new Uint8Array(0);
  /** Where the packets let go were last seen: function address halves and count, by the low half. */
  private readonly lastSeenLetGo = new Map<number, { hi: number; lo: number; n: number }[]>();
  /** Drops that are not failures (explain/: a reply a raw socket got its own copy of, a queue purged). */
  benign = 0;
  /** "REASON at place" -> count, in first-seen order; benign drops apart. */
  private readonly drops = new Map<string, number>();
  private readonly benignDrops = new Map<string, number>();
  /** The explanation of each summary key (its cause and sentence). */
  private readonly causes = new Map<string, Explanation>();

  constructor(
    private readonly text: VerdictText,
    /** Packets tracked at most (the tracker's bound). */
    private readonly max = MAX_TRACKED,
    /** The tracker that numbers each event just before it is counted here (numbered()), read instead of
     * tracking the events again (its onForget is the ledger's then); without it, a tracker of its own. */
    private readonly numbering?: PacketTracker,
  ) {}

  private track(): PacketTracker {
    const t = this.numbering ?? new PacketTracker(this.max);
    this.fnLo = new Uint32Array(t.places);
    this.fnHi = new Uint32Array(t.places);
    this.counted = new Uint8Array(t.places);
    t.onForget = (place) => {
      if (this.counted[place] !== 0) this.letGoAt(this.fnLo[place]!, this.fnHi[place]!);
    };
    this.tracker = t;
    return t;
  }

  /** One event; returns its verdict when it has one. */
  event(dv: DataView, off: number): VerdictFields | undefined {
    const t = this.tracker ?? this.track();
    if (this.numbering === undefined) t.of(dv, off);
    const p = t.place;
    const v = verdictOf(dv, off);
    if (t.state === PACKET_AFTER) return v; // its free path, a return: the ended packet's
    if (t.state === PACKET_NEW) this.counted[p] = 0;
    if (this.counted[p] === 0) {
      if (v === undefined && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) return undefined;
      this.counted[p] = 1;
      this.seen++;
    }
    if (v === undefined) {
      this.fnLo[p] = dv.getUint32(off + OFF_FUNC, true);
      this.fnHi[p] = dv.getUint32(off + OFF_FUNC + HIGH_WORD, true);
    } else this.count(v);
    return v;
  }

  /** Counts a packet let go before its verdict where it was last seen. */
  private letGoAt(fLo: number, fHi: number): void {
    this.letGo++;
    const list = this.lastSeenLetGo.get(fLo | 0);
    if (list === undefined) {
      this.lastSeenLetGo.set(fLo | 0, [{ hi: fHi, lo: fLo, n: 1 }]);
      return;
    }
    for (const at of list)
      if (at.hi === fHi) {
        at.n++;
        return;
      }
    list.push({ hi: fHi, lo: fLo, n: 1 });
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
      this.text.detailed(v) ||
      this.text.detailed(this.run) ||
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
    const why = this.text.why(this.run);
    if (why) this.causes.set(key, why);
    const into = why?.failure === false ? this.benignDrops : this.drops;
    if (why?.failure === false) this.benign += this.runCount;
    into.set(key, (into.get(key) ?? 0) + this.runCount);
    this.runCount = 0;
  }

  /** With tracking the kernel counts packets and knows where the unfinished ones were last seen (see
   * KernelPacketCounts): then only verdicts are counted here, one field read per event. */
  verdictOnly(dv: DataView, off: number): void {
    const v = verdictOf(dv, off);
    if (v !== undefined) this.count(v);
  }

  /** `5 packets: 2 dropped, 1 consumed, 1 delivered, 1 without a verdict` (benign drops apart, when any)
   * and, when there were drops, a line with them by cause and place, most first, each cause's sentence
   * under it; packets without a verdict say where they were last seen. A packet last seen at a delivery
   * point (its data copied to user space) counts as delivered. */
  summary(symbolizer: Symbolizer, kernel?: KernelPacketCounts): string[] {
    this.closeRun();
    const seen = kernel ? Math.max(kernel.seen, this.dropped + this.consumed) : this.seen;
    if (seen === 0) return []; // the "no packet was seen" hint says it better
    const unfinished = seen - this.dropped - this.consumed;
    // Where the packets without a verdict were last seen, counted by function address (a few hundred of
    // them) before they are named, once each; those last seen at a delivery point were delivered.
    const byAddr = new Map<bigint, number>();
    if (kernel) {
      for (const [f, n] of kernel.lastSeen) byAddr.set(f, n);
    } else {
      const add = (hi: number, lo: number, n: number) => {
        const k = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
        byAddr.set(k, (byAddr.get(k) ?? 0) + n);
      };
      this.tracker?.forEachOpen((p) => {
        if (this.counted[p] !== 0) add(this.fnHi[p]!, this.fnLo[p]!, 1);
      });
      for (const list of this.lastSeenLetGo.values()) for (const x of list) add(x.hi, x.lo, x.n);
    }
    const last = new Map<string, number>();
    let named = 0;
    let delivered = 0;
    if (unfinished > 0)
      for (const [f, n] of byAddr) {
        const s = symbolizer.resolve(f) ?? UNKNOWN;
        named += n;
        if (isDeliveryPoint(s.name)) delivered += n;
        else last.set(s.name, (last.get(s.name) ?? 0) + n);
      }
    const none = unfinished - delivered;
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
    const failed = this.dropped - this.benign;
    const benign = this.benign > 0 ? `, ${plural(this.benign, "benign drop")}` : "";
    const lines = [
      `${plural(seen, "packet")}: ${failed} dropped${benign}, ${this.consumed} consumed, ${delivered} delivered, ${none} without a verdict`,
    ];
    lines.push(...this.byCause(`${failed} dropped`, this.drops));
    lines.push(...this.byCause(`${plural(this.benign, "benign drop")} (not failures)`, this.benignDrops));
    if (none > 0) {
      const by = [...last].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} (${n})`);
      // Packets the tracking table pushed out (or whose place it could not keep) were not followed on.
      if (unfinished > named) by.push(`not followed to the end (${unfinished - named})`);
      lines.push(`${none} without a verdict, last seen at: ${by.join(", ")}`);
    }
    return lines;
  }

  /** `N dropped: KEY (n), ...`, most first, then each cause's sentence once, indented. */
  private byCause(head: string, drops: Map<string, number>): string[] {
    if (drops.size === 0) return [];
    const sorted = [...drops].sort((a, b) => b[1] - a[1]);
    const lines = [`${head}: ${sorted.map(([k, n]) => `${k} (${n})`).join(", ")}`];
    const said = new Set<string>();
    for (const [k] of sorted) {
      const why = this.causes.get(k);
      if (!why) continue;
      const line = `  ${why.cause}: ${explanationText(why)}`;
      if (!said.has(line)) lines.push(line);
      said.add(line);
    }
    return lines;
  }

  writeSummary(err: Sink, symbolizer: Symbolizer): void {
    for (const l of this.summary(symbolizer)) err.write(`${l}\n`);
  }
}
