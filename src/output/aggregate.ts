// -o aggregate (the default): traces are stored compactly while tracing, then printed per packet under a
// `=== packet N, skb 0x...` line (its packet id, output/packet/tracker.ts, and the skb's address at its first
// event), in ipftrace2's columns (`%-20zu %03u %24.24s %32.32s`: timestamp, CPU, module, function),
// then a space and the script's dump() text. Packets print in order of their first event (ipftrace2
// prints them in hash order).
// function_graph: the function column is `%-64.64s`, indented two spaces per call depth within the packet
// (a call prints `name() {` and then goes one deeper; a return goes one back and prints `}`).

import { type Explanation, explanationText } from "../explain/explanation.js";
import { continuesPacket, DATA_SIZE, FLAG_RETURN } from "../record/record.js";
import { ExtrasText } from "./extras-text.js";
import { changeText, type IdentityNotes, identityLineText } from "./identity-notes.js";
import { packetOrder } from "./packet/order.js";
import { BufferedSink } from "./text/buffered-sink.js";
import { cloneText } from "./text/clone-text.js";
import { cpu3, fitLeft, fitRight } from "./text/columns.js";
import type { SafeDumper } from "./text/dump-text.js";
import { NameCache } from "./text/name-cache.js";
import { decimalOfHalves, hexOfHalves } from "./text/u64-text.js";
import { elapsedColumn, packetTotalText, timeHeader } from "./time/aggregate-time.js";
import type { TimeColumn } from "./time/time-column.js";
import {
  TraceStore,
  W_CPU,
  W_FLAGS,
  W_FUNC_HI,
  W_FUNC_LO,
  W_PACKET,
  W_SKB_HI,
  W_SKB_LO,
  W_TS_HI,
  W_TS_LO,
} from "./trace-store.js";
import type { Sink, Symbolizer, Writer } from "./types.js";
import { deliveredVerdict, isDeliveryPoint, type VerdictText, verdictOf } from "./verdict-text.js";

/** Traces per crossing into the script's dump(). */
const DUMP_BLOCK = 4096;

/** ipftrace2's `%-20s %3.3s %24.24s %32.32s` header, printed once before the first packet. */
export const AGGREGATE_HEADER = `${fitLeft("Timestamp", 20)} CPU ${fitRight("Module", 24)} ${fitRight("Function", 32)}`;

export interface AggregateOptions {
  /** Store at most this many traces; the rest are counted and reported at the end. */
  maxTraces?: number;
  /** function_graph output. */
  graph?: boolean;
  /** Where the progress line and the cap notice go (default process.stderr). */
  err?: Sink;
  /** Show `Got N traces`, rewritten in place (default: when err is a TTY). */
  progress?: boolean;
  /** How often the progress line is redrawn. */
  progressMs?: number;
  /** Each packet's identity on its `===` line, its changes on their events' lines (identity-notes.ts). */
  identity?: IdentityNotes;
  /** The first column (--time); default nanoseconds since boot. */
  time?: TimeColumn;
  /** Each event's time since its packet's first event after the first column, and the packet's total on
   * its `===` line. */
  elapsed?: boolean;
}

export class AggregateWriter implements Writer {
  overflow = 0;
  private readonly store: TraceStore;
  /** Drops' explanations with their facts, by trace index (the others' are their verdict's). */
  private readonly explained = new Map<number, Explanation>();
  private readonly maxTraces: number;
  private readonly err: Sink;
  private readonly progress: boolean;
  private timer: NodeJS.Timeout | undefined;
  private shown = -1;
  /** The identity text of each packet's `===` line, by packet id; a change's text, by trace index. */
  private readonly idLines = new Map<number, string>();
  private readonly idChanges = new Map<number, string>();

  constructor(
    private readonly out: Sink,
    private readonly symbolizer: Symbolizer,
    private readonly dumper: SafeDumper | undefined,
    private readonly opts: AggregateOptions = {},
    private readonly verdicts?: VerdictText,
    private readonly extras = new ExtrasText(undefined),
  ) {
    this.store = new TraceStore(dumper !== undefined);
    this.maxTraces = opts.maxTraces ?? Number.POSITIVE_INFINITY;
    this.err = opts.err ?? process.stderr;
    this.progress = opts.progress ?? (this.err === process.stderr && process.stderr.isTTY === true);
  }

  get count(): number {
    return this.store.length;
  }

  /** Bytes the store holds. */
  get storedBytes(): number {
    return this.store.bytes;
  }

  write(dv: DataView, off: number, packet: number): void {
    if (this.store.length >= this.maxTraces) {
      this.overflow++;
      return;
    }
    this.keepIdentity(dv, off, packet);
    const v = this.verdicts && verdictOf(dv, off);
    // A drop's facts are taken now: what they read after the fact in the system is closest to the drop.
    const why = v && this.verdicts!.whyAt(v, dv, off);
    if (why) this.explained.set(this.store.length, why);
    this.store.push(dv, off, packet, v, this.extras.kept(dv, off));
    // Redrawn from a timer, so storing a trace costs no clock reading.
    if (this.progress && this.timer === undefined) {
      this.timer = setInterval(() => this.drawProgress(), this.opts.progressMs ?? 100);
      this.timer.unref();
    }
  }

  /** The identity's texts, made now: the record is gone by print(). */
  private keepIdentity(dv: DataView, off: number, packet: number): void {
    const n = this.opts.identity?.note(dv, off, packet);
    if (!n) return;
    if (n.first) {
      if (!this.idLines.has(packet)) this.idLines.set(packet, identityLineText(n));
    } else this.idChanges.set(this.store.length, changeText(n));
  }

  /** ` : <identity>` after the packet's `===` line's text, or "". */
  private packetIdentity(packet: number): string {
    const t = this.idLines.get(packet);
    return t === undefined ? "" : ` : ${t}`;
  }

  private drawProgress(): void {
    if (this.shown === this.store.length) return;
    this.shown = this.store.length;
    this.err.write(`\rGot ${this.shown} traces`);
  }

  finish(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.progress) {
      this.shown = -1;
      this.drawProgress();
      this.err.write("\n");
    }
    if (this.overflow > 0) {
      this.err.write(
        `ipft: stored the first ${this.maxTraces} traces only (--max-traces); ${this.overflow} more were not stored\n`,
      );
    }
    if (this.store.length > 0) this.print();
  }

  private print(): void {
    const s = this.store;
    const { order, starts, packets } = packetOrder(s);
    const graph = this.opts.graph === true;
    const columns = new NameCache(this.symbolizer, (sym) =>
      graph ? fitRight(sym.module, 24) : `${fitRight(sym.module, 24)} ${fitRight(sym.name, 32)}`,
    );
    const names = graph ? new NameCache(this.symbolizer, (sym) => sym.name) : undefined;
    const dumps = this.dumper ? new DumpTexts(s, order, this.dumper) : undefined;
    const lastSeen = this.verdicts ? new NameCache(this.symbolizer, (sym) => sym.name) : undefined;
    const clones = cloneTexts(s, order, starts, packets);

    const sink = new BufferedSink(this.out);
    const elapsed = this.opts.elapsed === true;
    const time = this.opts.time;
    const tw = time?.width ?? 20;
    sink.push(`${elapsed || tw !== 20 ? timeHeader(tw, elapsed) : AGGREGATE_HEADER}\n`);
    for (let k = 0; k < packets; k++) {
      const first = order[starts[k]!]!;
      const packet = s.word(first, W_PACKET);
      const head = `=== packet ${packet}, skb ${hexOfHalves(s.word(first, W_SKB_LO), s.word(first, W_SKB_HI))}`;
      const total = elapsed ? packetTotalText(s, first, order[starts[k + 1]! - 1]!) : "";
      sink.push(`${head}${total}${this.packetIdentity(packet)}\n`);
      let depth = 0;
      for (let j = starts[k]!; j < starts[k + 1]!; j++) {
        const i = order[j]!;
        const fLo = s.word(i, W_FUNC_LO);
        const fHi = s.word(i, W_FUNC_HI);
        const ts = time ? time.ofHalves(s.word(i, W_TS_LO), s.word(i, W_TS_HI)) : decimalOf(s, i);
        const since = elapsed ? elapsedColumn(s, first, i) : "";
        let line = `${ts.padEnd(tw)}${since} ${cpu3(s.word(i, W_CPU))} ${columns.lookup(fLo, fHi)}`;
        if (names) {
          let fn: string;
          if (s.word(i, W_FLAGS) & FLAG_RETURN) {
            if (depth > 0) depth--;
            fn = `${"  ".repeat(depth)}}`;
          } else {
            fn = `${"  ".repeat(depth)}${names.lookup(fLo, fHi)}() {`;
            depth++;
          }
          line += ` ${fitLeft(fn, 64)}`;
        }
        const c = clones?.get(i);
        if (c) line += ` ${c}`;
        // A change of the packet's identity, before the script's text (which ends the line, as before).
        const moved = this.idChanges.get(i);
        if (moved !== undefined) line += ` ${moved}`;
        const t = dumps?.at(j);
        sink.push(t ? `${line} ${t}\n` : `${line}\n`);
        const stack = s.stack(i);
        if (stack) sink.push(this.extras.keptLines(stack));
      }
      if (this.verdicts) {
        // The verdict's event, or the last one: only events that continue an ended packet follow it.
        let v = starts[k + 1]! - 1;
        while (v > starts[k]! && !s.hasVerdict(order[v]!) && continuesPacket(s.word(order[v]!, W_FLAGS))) v--;
        if (!s.hasVerdict(order[v]!)) v = starts[k + 1]! - 1;
        sink.push(`${verdictLine(s, order[v]!, this.verdicts, lastSeen!, this.explained)}\n`);
      }
    }
    sink.flush();
  }
}

const decimalOf = (s: TraceStore, i: number): string =>
  decimalOfHalves(s.word(i, W_TS_LO), s.word(i, W_TS_HI));

/** Each clone event's text, by trace index: `clone of 0x<parent>, packet <id>`, naming the parent's group
 * by its packet id (its `===` line's). The parent is the packet at that address when
 * the clone was made: of the traces at its address, the last one at or before the clone event. */
function cloneTexts(
  s: TraceStore,
  order: Int32Array,
  starts: Int32Array,
  packets: number,
): Map<number, string> | undefined {
  const { idx, parents } = s.clones;
  if (idx.length === 0) return undefined;
  const groupOf = new Int32Array(s.length);
  for (let k = 0; k < packets; k++) for (let j = starts[k]!; j < starts[k + 1]!; j++) groupOf[order[j]!] = k;
  const at = new Map<bigint, number[]>();
  for (const p of parents) at.set(p, []);
  for (let i = 0; i < s.length; i++) {
    const a = (BigInt(s.word(i, W_SKB_HI)) << 32n) | BigInt(s.word(i, W_SKB_LO));
    at.get(a)?.push(i);
  }
  // a at or before b (timestamps compared as their 32-bit halves: exact past 2^53 ns too)
  const le = (a: number, b: number) =>
    (s.word(a, W_TS_HI) - s.word(b, W_TS_HI) || s.word(a, W_TS_LO) - s.word(b, W_TS_LO)) <= 0;
  const out = new Map<number, string>();
  idx.forEach((c, n) => {
    const p = parents[n]!;
    let best = -1;
    for (const i of at.get(p)!) if (i !== c && le(i, c) && (best < 0 || le(best, i))) best = i;
    let text = cloneText(hexOfHalves(Number(p & 0xffffffffn), Number(p >> 32n)));
    if (best >= 0) text += `, packet ${s.word(order[starts[groupOf[best]!]!]!, W_PACKET)}`;
    out.set(c, text);
  });
  return out;
}

/** The line that ends a packet: how it ended (delivered, when its last event copied it to user space), or
 * where it was last seen. */
function verdictLine(
  s: TraceStore,
  last: number,
  verdicts: VerdictText,
  names: NameCache,
  explained: ReadonlyMap<number, Explanation>,
): string {
  const v = s.verdict(last);
  if (v) return `Verdict: ${verdicts.head(v)}${causeLine(explained.get(last) ?? verdicts.why(v))}`;
  const at = names.lookup(s.word(last, W_FUNC_LO), s.word(last, W_FUNC_HI));
  return isDeliveryPoint(at) ? `Verdict: ${deliveredVerdict(at)}` : `Verdict: none seen (last seen at ${at})`;
}

/** A drop's explanation, on its own line under the verdict. */
const causeLine = (why: Explanation | undefined): string => (why ? `\nCause: ${explanationText(why)}` : "");

/** The script's text for traces in print order, a block at a time (one crossing into Lua per block). */
class DumpTexts {
  private texts: string[] = [];
  private from = 0;

  constructor(
    private readonly s: TraceStore,
    private readonly order: Int32Array,
    private readonly dumper: SafeDumper,
  ) {}

  at(j: number): string {
    if (j < this.from || j >= this.from + this.texts.length) {
      const count = Math.min(DUMP_BLOCK, this.order.length - j);
      const block = new Uint8Array(count * DATA_SIZE);
      for (let b = 0; b < count; b++) this.s.copyData(this.order[j + b]!, block, b * DATA_SIZE);
      this.texts = this.dumper.many(block, "text");
      this.from = j;
    }
    return this.texts[j - this.from]!;
  }
}
