// -o aggregate (the default): traces are stored while tracing, then printed per packet (one skb address;
// the kernel may reuse an address for a later packet, and such packets print as one, as ipftrace2 does),
// packets in order of their first event, each packet's events in time order, under a `===` line.
// Columns follow ipftrace2: Timestamp CPU Module Function, then the script's text.
import { FLAG_RETURN, OFF_CPU, OFF_FLAGS, OFF_FUNC, OFF_SKB, OFF_TSTAMP } from "../events/record.js";
import { BufferedSink } from "./buffered-sink.js";
import type { SafeDumper } from "./dump-text.js";
import { cpu3 } from "./stream.js";
import { TraceStore } from "./trace-store.js";
import { type Sink, type Symbolizer, UNKNOWN, type Writer } from "./types.js";

/** C's %W.Ws: at most W characters, right-aligned in W. */
const fit = (s: string, w: number) => (s.length > w ? s.slice(0, w) : s.padStart(w));
/** C's %-W.Ws */
const fitLeft = (s: string, w: number) => (s.length > w ? s.slice(0, w) : s.padEnd(w));

const DUMP_BLOCK = 4096;

export const AGGREGATE_HEADER = `${"Timestamp".padEnd(20)} CPU ${fit("Module", 24)} ${fit("Function", 32)}`;

export interface AggregateOptions {
  maxTraces: number;
  graph: boolean;
  /** Where `Got N traces` and the cap notice go. */
  err?: Sink;
  progress?: boolean;
}

export class AggregateWriter implements Writer {
  dropped = 0;
  private readonly store: TraceStore;
  private lastProgress = 0;

  constructor(
    private readonly out: Sink,
    private readonly symbolizer: Symbolizer,
    private readonly dumper: SafeDumper | undefined,
    private readonly opts: AggregateOptions,
  ) {
    this.store = new TraceStore(dumper !== undefined);
  }

  get count(): number {
    return this.store.length;
  }

  get storedBytes(): number {
    return this.store.bytes;
  }

  write(dv: DataView, off: number): void {
    if (this.store.length >= this.opts.maxTraces) {
      this.dropped++;
      return;
    }
    this.store.push(dv, off);
    if (this.opts.progress && (this.store.length & 1023) === 0) {
      const now = Date.now();
      if (now - this.lastProgress > 100) {
        this.lastProgress = now;
        this.opts.err?.write(`\rGot ${this.store.length} traces`);
      }
    }
  }

  finish(): void {
    const s = this.store;
    const n = s.length;
    if (this.opts.progress) this.opts.err?.write(`\rGot ${n} traces\n`);
    if (this.dropped > 0) {
      this.opts.err?.write(
        `ipft: stopped storing after ${this.opts.maxTraces} traces (--max-traces); ${this.dropped} more were not stored\n`,
      );
    }
    if (n === 0) return;
    // Number packets by first appearance, then counting-sort trace indices by packet (arrival order kept).
    const packetOf = new Int32Array(n);
    const ids = new Map<bigint, number>();
    for (let i = 0; i < n; i++) {
      const [h, p] = s.head(i);
      const skb = h.getBigUint64(p + OFF_SKB, true);
      let id = ids.get(skb);
      if (id === undefined) {
        id = ids.size;
        ids.set(skb, id);
      }
      packetOf[i] = id;
    }
    const starts = new Int32Array(ids.size + 1);
    for (let i = 0; i < n; i++) starts[packetOf[i]! + 1]!++;
    for (let k = 0; k < ids.size; k++) starts[k + 1]! += starts[k]!;
    const order = new Int32Array(n);
    const fill = starts.slice(0, ids.size);
    for (let i = 0; i < n; i++) order[fill[packetOf[i]!]!++] = i;

    for (let k = 0; k < ids.size; k++) sortByTime(s, order, starts[k]!, starts[k + 1]!);
    // The script's text for a block of traces at a time, in print order: one crossing into Lua per block.
    let dumps: string[] = [];
    let dumpsFrom = 0;
    const dumpOf = (j: number): string => {
      if (!this.dumper) return "";
      if (j >= dumpsFrom + dumps.length) {
        const count = Math.min(DUMP_BLOCK, n - j);
        const block = new Uint8Array(count * 64);
        for (let b = 0; b < count; b++) block.set(s.data(order[j + b]!), b * 64);
        dumps = this.dumper.many(block, "text");
        dumpsFrom = j;
      }
      return dumps[j - dumpsFrom]!;
    };

    const sink = new BufferedSink(this.out);
    sink.push(`${AGGREGATE_HEADER}\n`);
    for (let k = 0; k < ids.size; k++) {
      sink.push("===\n");
      let depth = 0;
      for (let j = starts[k]!; j < starts[k + 1]!; j++) {
        const i = order[j]!;
        const [h, p] = s.head(i);
        const sym = this.symbolizer.resolve(h.getBigUint64(p + OFF_FUNC, true)) ?? UNKNOWN;
        let name: string;
        if (this.opts.graph) {
          if (h.getUint32(p + OFF_FLAGS, true) & FLAG_RETURN) {
            if (depth > 0) depth--;
            name = fitLeft(`${"  ".repeat(depth)}}`, 64);
          } else {
            name = fitLeft(`${"  ".repeat(depth)}${sym.name}() {`, 64);
            depth++;
          }
        } else {
          name = fit(sym.name, 32);
        }
        let line = `${h
          .getBigUint64(p + OFF_TSTAMP, true)
          .toString()
          .padEnd(20)} ${cpu3(h.getUint32(p + OFF_CPU, true))} ${fit(sym.module, 24)} ${name}`;
        const t = dumpOf(j);
        if (t) line += ` ${t}`;
        sink.push(`${line}\n`);
      }
    }
    sink.flush();
  }
}

/** Sorts order[from..to) by timestamp; events mostly arrive in order, so insertion sort is the fast case. */
function sortByTime(s: TraceStore, order: Int32Array, from: number, to: number): void {
  const ts = (i: number) => {
    const [h, p] = s.head(i);
    return h.getBigUint64(p + OFF_TSTAMP, true);
  };
  if (to - from > 64) {
    const sub = Array.from(order.subarray(from, to), (i) => [ts(i), i] as const);
    sub.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    sub.forEach(([, i], k) => {
      order[from + k] = i;
    });
    return;
  }
  for (let a = from + 1; a < to; a++) {
    const v = order[a]!;
    const tv = ts(v);
    let b = a - 1;
    while (b >= from && ts(order[b]!) > tv) {
      order[b + 1] = order[b]!;
      b--;
    }
    order[b + 1] = v;
  }
}
