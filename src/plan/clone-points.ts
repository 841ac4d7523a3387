// The kernel functions that make a new skb out of another and return it: where tracking follows a packet
// into its clones and copies (program/clone.ts). The one list; each is used only where this kernel has it
// as a real function (in BTF, traceable by the run's backend). pskb_copy, skb_unshare and
// skb_share_check are inline wrappers of these; skb_realloc_headroom and skb_expand_head call them.
import type { FunctionBackendName } from "../core/names.js";
import type { AttachPoint } from "./attach-points.js";
import type { PointRules } from "./plan.js";

export const CLONE_FUNCTIONS = ["skb_clone", "skb_copy", "__pskb_copy_fclone", "skb_copy_expand"] as const;

export interface ClonePoints {
  /** The clone functions this run attaches to, in CLONE_FUNCTIONS order. */
  points: AttachPoint[];
  /** Those it cannot (not a function of this kernel, or not traceable by the backend), with why. */
  skipped: { name: string; why: string }[];
}

/** Each clone function among vmlinux's attach points (the parent is always their first argument), if
 * `backend` can trace it. */
export function clonePoints(
  points: AttachPoint[],
  backend: FunctionBackendName,
  rules: PointRules,
): ClonePoints {
  const out: ClonePoints = { points: [], skipped: [] };
  for (const name of CLONE_FUNCTIONS) {
    const p = points.find(
      (q) => q.name === name && q.kind === "function" && q.module === "vmlinux" && q.skbPos === 1,
    );
    if (!p) {
      out.skipped.push({ name, why: "not a function of this kernel (BTF)" });
      continue;
    }
    const refused = rules(p, backend);
    if (refused) out.skipped.push({ name, why: `not traceable with ${backend} (${refused})` });
    else out.points.push(p);
  }
  return out;
}
