import type { AttachPoint } from "../plan/attach-points.js";

/** Attach points grouped by skb position, lowest first: one shared program reads one argument slot. */
export function groupBySkbPos(points: AttachPoint[]): [number, AttachPoint[]][] {
  const groups = new Map<number, AttachPoint[]>();
  for (const p of points) {
    const g = groups.get(p.skbPos);
    if (g) g.push(p);
    else groups.set(p.skbPos, [p]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]);
}
