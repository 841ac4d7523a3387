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
import type { FuncSource } from "./func-source.js";
import { SELECTORS } from "./selectors/index.js";
import type { PcapFilter } from "./selectors/pcap.js";
import type { SkbLayout } from "./skb-layout.js";
import { type TrackSpec, trackInsert, trackLookup } from "./track-map.js";

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

/** The tests, in order; rejects jump to `out`, a selected packet falls through (with tracking, R8 = its track id).
 * isVerdict: a verdict tracepoint (the packet ends here); afterVerdict: a point that runs after a verdict
 * (a function's return, the free path), where an ended packet continues. devArg: the context's slot
 * holding the device the point is about, read instead of skb->dev. */
export function emitSelection(
  sel: SelectSpec,
  m: MarkTest,
  func: FuncSource,
  out: string,
  isVerdict: boolean,
  afterVerdict = false,
  devArg?: number,
): Insn[] {
  const layout = () => need(sel);
  const p: Insn[] = [];
  if (sel.track) p.push(...trackLookup(sel.track, layout(), m.probeRead, isVerdict, afterVerdict, func));
  const tests = SELECTORS.filter((s) => s.wanted(sel)).flatMap((s) =>
    s.emit({ sel, m, layout, out, devArg }),
  );
  if (tests.length === 0) throw new Error("emitSelection: nothing selects packets");
  if (sel.track) tests[0] = asm.label("sel_untracked", tests[0]!);
  p.push(...tests);
  if (sel.track) p.push(...trackInsert(sel.track, layout(), m.probeRead, isVerdict, func));
  return p;
}

/** Whether this selection reads through the skb layout (tracking, or a selector that needs it). */
export function needsLayout(sel: SelectSpec): boolean {
  return sel.track !== undefined || SELECTORS.some((s) => s.needsLayout && s.wanted(sel));
}

function need(sel: SelectSpec): SkbLayout {
  if (!sel.layout) throw new Error("emitSelection: the skb layout is needed for this selection");
  return sel.layout;
}
