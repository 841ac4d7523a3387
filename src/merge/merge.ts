// --read of several files: their events on one time line, each keeping its machine, the packets that are
// one packet across machines (journeys.ts) under one packet id. Each file's events are already in time
// order (per packet; CPUs may interleave by a little, as live): the files' streams are merged by their
// heads. Each record's timestamp is moved onto the first file's clock: by nothing for files of the same
// boot (one monotonic clock), else by the difference of the files' wall-clock offsets. The machine of each
// event reaches the writers as its dump text (`host: router`, `"host":"router"` in json), the way a
// script's text does, after the script's own when the file has one. Held: every file's records (as --read
// of one file holds them), a signature entry per packet and one text index per event.
import { PacketTracker } from "../output/packet/tracker.js";
import type { Replay } from "../output/pcapng-replay.js";
import type { Dumper, DumpFormat, Writer } from "../output/types.js";
import { packetBytes } from "../record/parts/index.js";
import {
  OFF_DATA,
  OFF_TRACK,
  OFF_TSTAMP,
  OFF_VERDICT,
  readCapLen,
  readLink,
  readTimestamp,
  readVerdict,
  VERDICT_DROP,
  VERDICT_NONE,
} from "../record/record.js";
import { JourneyMatcher } from "./journeys.js";
import { signatureOf } from "./signature.js";

export interface MergeInput {
  /** What messages and the output call the machine. */
  host: string;
  bootId: string;
  /** realtime - monotonic when the file was opened, and its uncertainty (ns). */
  offsetNs: bigint;
  uncertaintyNs: bigint;
  replay: Replay;
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
}

/** Every event of the inputs to the writer, in time order, numbered by journey. */
/** `dropsOnly`: only the journeys whose last machine dropped the packet (--drops: decided here, where the
 * whole journey is known, for the writers' --drops follows one skb address). */
export function mergeInto(
  inputs: MergeInput[],
  w: Writer,
  out: HostTexts,
  dropsOnly = false,
  /** Whether a drop is a failure (explain/): a benign one is left out of --drops like a consume. */
  isFailedDrop: (dv: DataView, off: number) => boolean = () => true,
): Merged {
  const views = inputs.map(
    (i) => new DataView(i.replay.records.buffer, i.replay.records.byteOffset, i.replay.records.byteLength),
  );
  // Local packet ids: the file's, or numbered as --read of a format 2 file numbers them.
  const local = inputs.map((inp, f) => {
    const r = inp.replay;
    if (r.packetIds) return r.packetIds;
    const t = new PacketTracker();
    return r.offsets.map((off) => t.of(views[f]!, off));
  });
  // A file's packet as the matcher sees it: its events up to one whose bytes say it is another packet
  // (another signature). Without tracking (--no-track) one skb address carries packet after packet, and
  // a packet that left the machine has no verdict to end it.
  const matcher = new JourneyMatcher();
  const segments = inputs.map((inp, f) => {
    const dv = views[f]!;
    const open = new Map<number, { seg: number; sig: string | undefined }>();
    let next = 0;
    return inp.replay.offsets.map((off, i) => {
      const sig = readCapLen(dv, off) > 0 ? signatureOf(packetBytes(dv, off), readLink(dv, off)) : undefined;
      const id = local[f]![i]!;
      let cur = open.get(id);
      if (!cur || (sig !== undefined && cur.sig !== undefined && sig !== cur.sig)) {
        cur = { seg: next++, sig };
        open.set(id, cur);
      } else if (sig !== undefined) cur.sig = sig;
      matcher.add(f, cur.seg, sig);
      return cur.seg;
    });
  });
  matcher.solve();

  // Onto the first file's clock: files of one boot share theirs.
  const clockOf = new Map<string, bigint>();
  const shift = inputs.map((inp) => {
    const key = inp.bootId || `${inp.host}\0${inp.offsetNs}`;
    if (!clockOf.has(key)) clockOf.set(key, inp.offsetNs);
    return clockOf.get(key)! - inputs[0]!.offsetNs;
  });
  inputs.forEach((inp, f) => {
    if (shift[f] === 0n) return;
    const dv = views[f]!;
    for (const off of inp.replay.offsets)
      dv.setBigUint64(off + OFF_TSTAMP, BigInt.asUintN(64, readTimestamp(dv, off) + shift[f]!), true);
  });

  // Where each journey ends: a verdict on an earlier machine (the sender's driver freeing the packet
  // once sent) is that machine's copy ending, not the packet's.
  const end = new Map<number, { ts: bigint; file: number }>();
  inputs.forEach((inp, f) => {
    const dv = views[f]!;
    inp.replay.offsets.forEach((off, i) => {
      const j = matcher.journey(f, segments[f]![i]!);
      const ts = readTimestamp(dv, off);
      const e = end.get(j);
      if (!e || ts >= e.ts) end.set(j, { ts, file: f });
    });
  });
  const dropped = new Set<number>();
  inputs.forEach((inp, f) => {
    const dv = views[f]!;
    inp.replay.offsets.forEach((off, i) => {
      const j = matcher.journey(f, segments[f]![i]!);
      if (readVerdict(dv, off) === VERDICT_DROP && end.get(j)!.file === f && isFailedDrop(dv, off))
        dropped.add(j);
    });
  });
  const { texts, frags } = out;
  const ids = new Map<number, number>();
  const lastHost = new Map<number, number>();
  const crossed = new Set<number>();
  const next = inputs.map(() => 0);
  const data = new Uint8Array(64);
  let events = 0;
  for (;;) {
    let f = -1;
    let best = 0n;
    for (let k = 0; k < inputs.length; k++) {
      const i = next[k]!;
      if (i >= inputs[k]!.replay.count) continue;
      const ts = readTimestamp(views[k]!, inputs[k]!.replay.offsets[i]!);
      if (f < 0 || ts < best) {
        f = k;
        best = ts;
      }
    }
    if (f < 0) break;
    const i = next[f]!++;
    const inp = inputs[f]!;
    const dv = views[f]!;
    const off = inp.replay.offsets[i]!;
    const journey = matcher.journey(f, segments[f]![i]!);
    const verdict = readVerdict(dv, off);
    const passed = verdict !== VERDICT_NONE && end.get(journey)!.file !== f;
    if (passed) dv.setUint32(off + OFF_VERDICT, VERDICT_NONE, true);
    let id = ids.get(journey);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(journey, id);
    }
    // Numbered as without --drops, so one packet has one id whatever is shown.
    if (dropsOnly && !dropped.has(journey)) continue;
    // The machine, marked where the journey changes machine.
    const before = lastHost.get(id);
    lastHost.set(id, f);
    const changed = before !== undefined && before !== f;
    if (changed) crossed.add(id);
    const left = passed ? `, ${verdict === VERDICT_DROP ? "dropped" : "freed"} here, went on` : "";
    const host = (changed ? `${inp.host} (from ${inputs[before]!.host})` : inp.host) + left;
    const own = inp.replay.dumper;
    const ownText = own ? textOf(own, dv, off, data, "text") : "";
    const ownFrag = own ? textOf(own, dv, off, data, "json") : "";
    const from =
      (changed ? `,"host_from":${JSON.stringify(inputs[before]!.host)}` : "") +
      (passed ? `,"host_verdict":${verdict === VERDICT_DROP ? '"dropped"' : '"consumed"'}` : "");
    dv.setUint32(off + OFF_DATA, texts.length, true);
    texts.push(ownText ? `host: ${host} ${ownText}` : `host: ${host}`);
    frags.push(`,"host":${JSON.stringify(inp.host)}${from}${ownFrag}`);
    // The writers, the summary and --drops know a packet by its track id: one per journey.
    dv.setBigUint64(off + OFF_TRACK, BigInt(id), true);
    w.write(dv, off, id);
    events++;
  }
  return {
    ambiguous: matcher.ambiguous,
    packets: end.size,
    dropped: dropped.size,
    crossing: crossed.size,
    alignmentNs: alignment(inputs, clockOf),
    events,
  };
}

/** Each merged event's machine (and its script's text) as dump text: give `dumper` to the writer, and
 * this to mergeInto, which numbers the events in their data. */
export class HostTexts {
  readonly texts: string[] = [];
  readonly frags: string[] = [];
  readonly dumper: Dumper = {
    dump: (data) => this.texts[indexOf(data)],
    dumpFormatted: (data, format) => (format === "json" ? this.frags : this.texts)[indexOf(data)] ?? "",
  };
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
