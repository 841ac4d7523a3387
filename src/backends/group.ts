import type { AttachPoint } from "../plan/attach-points.js";
import { isFreePath } from "../plan/free-path.js";
import { startsPackets } from "../plan/late-free.js";

export interface PointGroup {
  skbPos: number;
  /** Points of the skb's free path (plan/free-path.ts): their program continues an ended packet. */
  freeing: boolean;
  /** Points where no packet starts (plan/late-free.ts). */
  noNewPackets: boolean;
  points: AttachPoint[];
}

/** Attach points grouped by skb position (one shared program reads one argument slot), the free path's
 * points and those where no packet starts apart from the others (their programs differ); lowest position
 * first. */
export function groupBySkbPos(points: AttachPoint[]): PointGroup[] {
  const groups = new Map<number, PointGroup>();
  for (const p of points) {
    const freeing = isFreePath(p);
    const noNewPackets = !startsPackets(p);
    const k = p.skbPos * 4 + (freeing ? 1 : 0) + (noNewPackets ? 2 : 0);
    const g = groups.get(k);
    if (g) g.points.push(p);
    else groups.set(k, { skbPos: p.skbPos, freeing, noNewPackets, points: [p] });
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

/** The unit name's suffix for a group: free-path programs (and those where no packet starts) are told
 * apart in logs and --gen. */
export const groupSuffix = (g: PointGroup): string =>
  `skb${g.skbPos}${g.freeing ? "_free" : g.noNewPackets ? "_handoff" : ""}`;
