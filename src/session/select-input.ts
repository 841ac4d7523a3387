// The selection part of every main program's inputs: the mark alone (as before) unless a filter, a device,
// a namespace or tracking is asked for.
import type { SelectSpec, TrackSpec } from "../program/selection.js";
import type { Selection } from "./config.js";
import type { KernelView } from "./kernel-view.js";
import { skbLayout } from "./skb-layout.js";

export function selectInput(
  sel: Selection,
  kernel: KernelView,
  track: TrackSpec | undefined,
): { select?: SelectSpec } {
  const markTest = sel.markTest ?? true;
  const byDevice = sel.ifindex !== undefined || sel.ifname !== undefined || sel.netnsInum !== undefined;
  if (markTest && !sel.filter && !byDevice && !track) return {};
  const select: SelectSpec = { markTest };
  if (sel.filter || byDevice || track) select.layout = skbLayout(kernel.btf, sel.netnsInum !== undefined);
  if (sel.filter)
    select.filter = {
      ethernet: sel.filter.ethernet,
      ...(sel.filter.raw ? { raw: sel.filter.raw } : {}),
    };
  if (sel.ifindex !== undefined) select.ifindex = sel.ifindex;
  if (sel.ifname !== undefined) select.ifname = sel.ifname;
  if (sel.netnsInum !== undefined) select.netnsInum = sel.netnsInum;
  if (track) select.track = track;
  return { select };
}
