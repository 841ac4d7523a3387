// --read of several files: their events on one time line, each keeping its machine, the packets that are
// one packet across machines (journeys.ts) under one packet id. Each file is read piece by piece
// (file-events.ts), its events in its order (time order per packet; CPUs may interleave by a little, as
// live): the files' streams are merged by their heads. Each record's timestamp is moved onto the first
// file's clock: by nothing for files of the same boot (one monotonic clock), else by the difference of the
// files' wall-clock offsets. The machine of each event reaches the writers as its dump text
// (`host: router`, `"host":"router"` in json), the way a script's text does, after the script's own when
// the file has one. Held: the events of packets not decided yet (journeys.ts), the pieces of the files
// they are in, and each distinct text.
import type { Replay } from "../output/pcapng-replay.js";
import type { Dumper, DumpFormat, Writer } from "../output/types.js";
import { packetBytes } from "../record/parts/index.js";
import {
  OFF_DATA,
  OFF_TRACK,
  OFF_VERDICT,
  readCapLen,
  readLink,
  readVerdict,
  VERDICT_DROP,
  VERDICT_NONE,
} from "../record/record.js";
import type { FileEvents } from "./file-events.js";
import { JourneyWindow } from "./journeys.js";
import { signatureOf } from "./signature.js";

export interface MergeInput {
  /** What messages and the output call the machine. */
  host: string;
  bootId: string;
  /** realtime - monotonic when the file was opened, and its uncertainty (ns). */
  offsetNs: bigint;
  uncertaintyNs: bigint;
  events: FileEvents;
}

export interface Merged {
  /** Packets whose match across files was ambiguous: kept apart. */
  ambiguous: number;
  /** Packets (journeys) in all, and those whose last machine dropped them. */
  packets: number;
  dropped: number;
  /** Journeys seen on more than one machine (of those written). */
  crossing: number;
  /** How far apart two machines' times may be, in ns (0: one clock), or undefined when a file did not
   * record its clock offset. */
  alignmentNs: bigint | undefined;
  events: number;
  /** The most events held at once, waiting for their packets to be decided. */
  peakHeld: number;
}

/** How long (on the merged time line) a packet's signature waits for its copies on the other machines,
 * and a file's packet for its next event, before its journey is decided (journeys.ts). */
export const MATCH_WINDOW_NS = 1_000_000_000n;

/** The event the merge holds until its packet is decided. */
interface Held {
  file: number;
  dv: DataView;
  off: number;
  replay: Replay;
}

/** Every event of the inputs to the writer, in time order, numbered by journey. `dropsOnly`: only the
 * journeys whose last machine dropped the packet (--drops: decided here, where the whole journey is known,
 * for the writers' --drops follows one skb address). */
export function mergeInto(
  inputs: MergeInput[],
  w: Writer,
  out: HostTexts,
  dropsOnly = false,
  /** Whether a drop is a failure (explain/): a benign one is left out of --drops like a consume. */
  isFailedDrop: (dv: DataView, off: number) => boolean = () => true,
  windowNs = MATCH_WINDOW_NS,
): Merged {
  // Onto the first file's clock: files of one boot share theirs.
  const clockOf = new Map<string, bigint>();
  inputs.forEach((inp) => {
    const key = inp.bootId || `${inp.host}\0${inp.offsetNs}`;
    if (!clockOf.has(key)) clockOf.set(key, inp.offsetNs);
    inp.events.shift = clockOf.get(key)! - inputs[0]!.offsetNs;
  });
  const data = new Uint8Array(64);
  let crossing = 0;
  let dropped = 0;
  let ids = 0;
  let events = 0;
  const window = new JourneyWindow<Held>(windowNs, ({ file: f, dv, off, replay }, j) => {
    const inp = inputs[f]!;
    const verdict = readVerdict(dv, off);
    // A verdict on an earlier machine (the sender's driver freeing the packet once sent) is that
    // machine's copy ending, not the packet's.
    const passed = verdict !== VERDICT_NONE && j.endFile !== f;
    if (passed) dv.setUint32(off + OFF_VERDICT, VERDICT_NONE, true);
    if (j.id === 0) {
      j.id = ++ids;
      if (j.dropped) dropped++;
    }
    const id = j.id;
    // Numbered as without --drops, so one packet has one id whatever is shown.
    if (dropsOnly && !j.dropped) return;
    // The machine, marked where the journey changes machine.
    const before = j.lastHost;
    j.lastHost = f;
    const changed = before >= 0 && before !== f;
    if (changed && !j.crossed) {
      j.crossed = true;
      crossing++;
    }
    const left = passed ? `, ${verdict === VERDICT_DROP ? "dropped" : "freed"} here, went on` : "";
    const host = (changed ? `${inp.host} (from ${inputs[before]!.host})` : inp.host) + left;
    const own = replay.dumper;
    const ownText = own ? textOf(own, dv, off, data, "text") : "";
    const ownFrag = own ? textOf(own, dv, off, data, "json") : "";
    const from =
      (changed ? `,"host_from":${JSON.stringify(inputs[before]!.host)}` : "") +
      (passed ? `,"host_verdict":${verdict === VERDICT_DROP ? '"dropped"' : '"consumed"'}` : "");
    const index = out.index(
      ownText ? `host: ${host} ${ownText}` : `host: ${host}`,
      `,"host":${JSON.stringify(inp.host)}${from}${ownFrag}`,
    );
    dv.setUint32(off + OFF_DATA, index, true);
    // The writers, the summary and --drops know a packet by its track id: one per journey.
    dv.setBigUint64(off + OFF_TRACK, BigInt(id), true);
    w.write(dv, off, id);
    events++;
  });
  // The files' heads, the earliest first (the first file on a tie).
  const heads = new FileHeap(inputs.map((i) => i.events));
  for (let f = heads.pop(); f >= 0; f = heads.pop()) {
    const e = inputs[f]!.events;
    const dv = e.dv;
    const off = e.off;
    const sig = readCapLen(dv, off) > 0 ? signatureOf(packetBytes(dv, off), readLink(dv, off)) : undefined;
    const failedDrop = readVerdict(dv, off) === VERDICT_DROP && isFailedDrop(dv, off);
    window.add({
      file: f,
      packetId: e.packetId,
      ts: e.ts,
      sig,
      failedDrop,
      item: { file: f, dv, off, replay: e.replay },
    });
    heads.push(f);
  }
  window.finish();
  return {
    ambiguous: window.ambiguous,
    packets: window.journeys,
    dropped,
    crossing,
    alignmentNs: alignment(inputs, clockOf),
    events,
    peakHeld: window.peakHeld,
  };
}

/** A binary heap of file numbers by their current event's timestamp, then file number. */
class FileHeap {
  private readonly h: number[] = [];

  constructor(private readonly files: FileEvents[]) {
    files.forEach((_, f) => {
      this.push(f);
    });
  }

  /** Moves the file to its next event and takes it in (not when it has none). */
  push(f: number): void {
    if (!this.files[f]!.next()) return;
    const h = this.h;
    let i = h.push(f) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(f, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = f;
  }

  /** The file whose event is the earliest (its event is current), or -1. */
  pop(): number {
    const h = this.h;
    if (h.length === 0) return -1;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && this.less(h[l + 1]!, h[l]!) ? l + 1 : l;
        if (!this.less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const ta = this.files[a]!.ts;
    const tb = this.files[b]!.ts;
    return ta < tb || (ta === tb && a < b);
  }
}

/** Each merged event's machine (and its script's text) as dump text: give `dumper` to the writer, and
 * this to mergeInto, which numbers the events in their data. */
export class HostTexts {
  private readonly texts: string[] = [];
  private readonly frags: string[] = [];
  /** Each (text, fragment) once: a few per pair of machines, unless the files have a script's text. */
  private readonly known = new Map<string, number>();
  readonly dumper: Dumper = {
    dump: (data) => this.texts[indexOf(data)],
    dumpFormatted: (data, format) => (format === "json" ? this.frags : this.texts)[indexOf(data)] ?? "",
  };

  /** The index of this text and json fragment. */
  index(text: string, frag: string): number {
    const key = `${text}\0${frag}`;
    let i = this.known.get(key);
    if (i === undefined) {
      i = this.texts.length;
      this.texts.push(text);
      this.frags.push(frag);
      this.known.set(key, i);
    }
    return i;
  }
}

const indexOf = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);

function textOf(d: Dumper, dv: DataView, off: number, data: Uint8Array, format: DumpFormat): string {
  data.set(new Uint8Array(dv.buffer, dv.byteOffset + off + OFF_DATA, 64));
  if (d.dumpFormatted) return d.dumpFormatted(data, format);
  const r = d.dump(data);
  return typeof r === "string" ? r : "";
}

/** Two machines' times may differ by their offsets' uncertainties; one boot's files share one clock. */
function alignment(inputs: MergeInput[], clocks: Map<string, bigint>): bigint | undefined {
  if (clocks.size <= 1) return 0n;
  if (inputs.some((i) => i.offsetNs === 0n)) return undefined;
  const u = inputs.map((i) => i.uncertaintyNs).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return u[0]! + (u[1] ?? 0n);
}
