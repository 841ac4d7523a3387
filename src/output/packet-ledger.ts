// Counts packets and how they ended, event by event, for the summary after tracing. A packet is an skb
// address (or its track id: output/packet-key.ts) from its first event to its verdict; the next event at
// that address starts a new packet (the kernel reuses freed skbs), except the events that continue the
// ended one (its free path, a function's return: record.ts continuesPacket). Open packets are held in bounded memory:
// past the bound the oldest is let go, counted as without a verdict where it was last seen. (On recent
// kernels a packet delivered to a socket often ends on a path without a verdict tracepoint, so most
// packets of a long trace may never close.)
import { type Explanation, explanationText } from "../explain/explanation.js";
import { continuesPacket, OFF_FLAGS, OFF_FUNC, VERDICT_DROP } from "../record/record.js";
import { OpenPackets } from "./open-packets.js";
import { packetKeyOffset } from "./packet-key.js";
import type { KernelPacketCounts, Sink, Symbolizer } from "./types.js";
import { UNKNOWN } from "./types.js";
import { isDeliveryPoint, type VerdictFields, type VerdictText, verdictOf } from "./verdict-text.js";

/** Open packets held at most; beyond, the oldest is let go (counted as without a verdict). */
export const MAX_OPEN_PACKETS = 1 << 16;

export class PacketLedger {
  seen = 0;
  dropped = 0;
  consumed = 0;
  /** Packets let go before a verdict because too many were open at once (counted as without one). */
  letGo = 0;
  private readonly open: OpenPackets;
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
    private readonly maxOpen = MAX_OPEN_PACKETS,
  ) {
    this.open = new OpenPackets(maxOpen);
    // Room for closed packets' keys too, so a full ring rarely lets go of a packet before the bound.
    this.qLo = new Int32Array(2 * maxOpen);
    this.qHi = new Uint32Array(2 * maxOpen);
  }

  /** One event; returns its verdict when it has one. */
  event(dv: DataView, off: number): VerdictFields | undefined {
    const k = packetKeyOffset(dv, off);
    const lo = dv.getInt32(k, true);
    const hi = dv.getUint32(k + 4, true);
    const fnLo = dv.getUint32(off + OFF_FUNC, true);
    const fnHi = dv.getUint32(off + OFF_FUNC + 4, true);
    const slot = this.open.find(lo, hi);
    const v = verdictOf(dv, off);
    if (slot < 0) {
      // After its packet's verdict, its free path and returns: not a packet of their own.
      if (v === undefined && continuesPacket(dv.getUint32(off + OFF_FLAGS, true))) return undefined;
      this.seen++;
      if (v === undefined) {
        if (this.open.size >= this.maxOpen || this.qLen === this.qLo.length) this.letGoOldest();
        this.open.add(lo, hi, fnLo, fnHi);
        const tail = (this.qHead + this.qLen++) % this.qLo.length;
        this.qLo[tail] = lo;
        this.qHi[tail] = hi;
      }
    } else if (v === undefined) this.open.set(slot, fnLo, fnHi);
    if (v !== undefined) {
      this.count(v);
      if (slot >= 0) this.open.remove(slot);
    }
    return v;
  }

  /** Packets in the order they opened (a ring of keys; a key whose packet has closed since is skipped). */
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
      const slot = this.open.find(lo, hi);
      if (slot < 0) continue; // closed by its verdict already
      const fLo = this.open.a(slot);
      const fHi = this.open.b(slot);
      this.open.remove(slot);
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
      this.open.forEachValue((lo, hi) => add(hi, lo, 1));
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
