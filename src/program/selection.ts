// Which packets the main program traces: the selection, emitted between the skb's NULL check and the
// record. A packet already selected at an earlier point (the tracking map, keyed by skb address:
// program/track-map.ts) skips every test: it stays traced after its mark is cleared or its headers change.
// Otherwise each selector that is asked for (./selectors: the mark, the device and namespace, the pcap
// filter) must pass: they are ANDed, in SELECTORS' order, cheapest first. A selected packet enters the
// tracking map.
//
// Registers: R6 = ctx and R7 = skb on entry and exit; on exit R8 = the track id (defined only with
// tracking; emitTrackRecord stores it).
// Stack: until the record is zeroed, the record's place holds what is read from the skb, and the
// module's stack holds the packet copy; the reserved area holds the filter's M[] and the map's key/value.
import { asm, type Insn } from "../asm/index.js";
import { R0, R1, R2, R6 } from "../asm/opcodes.js";
import type { CodeRange } from "../symbols/index.js";
import type { FuncSource } from "./func-source.js";
import { countPerCpu } from "./map-call.js";
import { SELECTORS } from "./selectors/index.js";
import type { PcapFilter } from "./selectors/pcap.js";
import type { SkbLayout } from "./skb-layout.js";
import { SCRATCH_KEY } from "./stack-layout.js";
import { TRACK_LATE_FREED, type TrackSpec, trackInsert, trackLookup } from "./track-map.js";

/** The selectors' values beyond the mark (absent: not asked for), defined once: the command line fills
 * them (session/config.ts's Selection) and the program tests them. */
export interface SelectorValues {
  /** A pcap filter (docs/selection.md). */
  filter?: PcapFilter;
  ifindex?: number;
  ifname?: string;
  /** The namespace's inode number, as `stat -L /proc/PID/ns/net` prints it. */
  netnsInum?: number;
}

/** What the program selects by: the selectors' values, the offsets they read through, and the tracking
 * map. */
export interface SelectSpec extends SelectorValues {
  /** Test skb->mark (the MainProgramSpec's mark and mask); false when only other tests select. */
  markTest: boolean;
  /** Offsets; needed by tracking and by the selectors whose needsLayout is set. */
  layout?: SkbLayout;
  track?: TrackSpec;
}

export interface MarkTest {
  markOffset: number;
  mark: number;
  mask: number;
  probeRead: number;
}

/** consume_skb's location argument (a u64 slot of the context) and the late free's code [lo, hi). */
export interface LateFreeTest extends CodeRange {
  locationArg: number;
}

/** What the point is to a packet. isVerdict: a verdict tracepoint (the packet ends here); afterVerdict: a
 * point that runs after a verdict (a function's return, the free path), where an ended packet continues;
 * noNewPackets: no packet starts here (with tracking); lateFree: a packet freed by this code is not
 * started here (plan/late-free.ts); devArg: the context's slot holding the device the point is about,
 * read instead of skb->dev. */
export interface PointRole {
  isVerdict: boolean;
  afterVerdict?: boolean;
  noNewPackets?: boolean;
  lateFree?: LateFreeTest;
  devArg?: number;
}

/** The tests, in order; rejects jump to `out`, a selected packet falls through (with tracking, R8 = its track id). */
export function emitSelection(
  sel: SelectSpec,
  m: MarkTest,
  func: FuncSource,
  out: string,
  role: PointRole,
): Insn[] {
  const layout = () => need(sel);
  const p: Insn[] = [];
  const { isVerdict, devArg } = role;
  if (sel.track)
    p.push(...trackLookup(sel.track, layout(), m.probeRead, isVerdict, role.afterVerdict ?? false, func));
  if (sel.track && role.noNewPackets) {
    // Tracked packets only: an untracked one ends here.
    p.push(asm.label("sel_untracked", asm.ja(out)), asm.label("sel_done", asm.mov64Reg(R0, R0)));
    return p;
  }
  const selectors = SELECTORS.filter((s) => s.wanted(sel)).flatMap((s) =>
    s.emit({ sel, m, layout, out, devArg }),
  );
  if (selectors.length === 0) throw new Error("emitSelection: nothing selects packets");
  const tests = [...(role.lateFree ? lateFreeTest(role.lateFree, out, sel.track) : []), ...selectors];
  if (sel.track) tests[0] = asm.label("sel_untracked", tests[0]!);
  p.push(...tests);
  if (sel.track) p.push(...trackInsert(sel.track, layout(), m.probeRead, isVerdict, func));
  return p;
}

/** A packet freed from the late free's code (its location in [lo, hi)) goes to `out`, counted with
 * tracking. R6 = ctx. Uses R1, R2 and, counting, R0. */
function lateFreeTest(t: LateFreeTest, out: string, track: TrackSpec | undefined): Insn[] {
  return [
    asm.ldxMem(asm.DW, R1, R6, t.locationArg * 8),
    asm.ldImm64(R2, t.lo),
    asm.jmpReg(asm.JLT, R1, R2, "sel_not_late"),
    asm.ldImm64(R2, t.hi),
    asm.jmpReg(asm.JGE, R1, R2, "sel_not_late"),
    ...(track ? countPerCpu(track.countFd, SCRATCH_KEY, TRACK_LATE_FREED, out) : []),
    asm.ja(out),
    asm.label("sel_not_late", asm.mov64Reg(R1, R1)),
  ];
}

/** Whether this selection reads through the skb layout (tracking, or a selector that needs it). */
export function needsLayout(sel: SelectSpec): boolean {
  return sel.track !== undefined || SELECTORS.some((s) => s.needsLayout && s.wanted(sel));
}

function need(sel: SelectSpec): SkbLayout {
  if (!sel.layout) throw new Error("emitSelection: the skb layout is needed for this selection");
  return sel.layout;
}
