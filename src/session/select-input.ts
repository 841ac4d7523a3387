// The selection part of every main program's inputs: the mark alone (as before) unless another selector
// or tracking is asked for.
import { needsLayout, type SelectSpec } from "../program/selection.js";
import type { TrackSpec } from "../program/track-map.js";
import type { Selection } from "./config.js";
import type { KernelView } from "./kernel-view.js";
import { skbLayout } from "./skb-layout.js";

export function selectInput(
  sel: Selection,
  kernel: KernelView,
  track: TrackSpec | undefined,
): { select?: SelectSpec } {
  const select: SelectSpec = { markTest: sel.markTest ?? true };
  if (sel.filter) select.filter = sel.filter;
  if (sel.ifindex !== undefined) select.ifindex = sel.ifindex;
  if (sel.ifname !== undefined) select.ifname = sel.ifname;
  if (sel.netnsInum !== undefined) select.netnsInum = sel.netnsInum;
  if (track) select.track = track;
  if (!needsLayout(select)) return select.markTest ? {} : { select };
  select.layout = skbLayout(kernel.btf, sel.netnsInum !== undefined);
  return { select };
}
