import type { AttachPoint } from "../plan/attach-points.js";
import { isFreePath } from "../plan/free-path.js";

export interface PointGroup {
  skbPos: number;
  /** Points of the skb's free path (plan/free-path.ts): their program continues an ended packet. */
  freeing: boolean;
  points: AttachPoint[];
}

/** Attach points grouped by skb position (one shared program reads one argument slot), the free path's
 * points apart from the others (their program differs); lowest position first. */
export function groupBySkbPos(points: AttachPoint[]): PointGroup[] {
  const groups = new Map<number, PointGroup>();
  for (const p of points) {
    const freeing = isFreePath(p);
    const k = p.skbPos * 2 + (freeing ? 1 : 0);
    const g = groups.get(k);
    if (g) g.points.push(p);
    else groups.set(k, { skbPos: p.skbPos, freeing, points: [p] });
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

/** The unit name's suffix for a group: free-path programs are told apart in logs and --gen. */
export const groupSuffix = (g: PointGroup): string => `skb${g.skbPos}${g.freeing ? "_free" : ""}`;
