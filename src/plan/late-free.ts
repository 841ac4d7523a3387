// The late free. A packet read by a socket on another CPU than the one that made it is not freed there:
// the kernel hands it back to its own CPU (skb_attempt_defer_free: TCP since 5.19, UDP since 6.18), which
// frees it the next time it runs the receive softirq (skb_defer_free_flush, inlined in net_rx_action on
// some kernels): seconds or minutes later on a quiet CPU. Its consume_skb then fires, still marked, long
// after its journey ended, often in a trace started after it. Such a packet is no journey of the trace:
// a packet not tracked yet is not started at that consume_skb (program/selection.ts counts it apart), nor
// at the functions that hand a packet over to be freed and the free path that follows (their programs
// continue a tracked packet, never start one). A packet tracked from before keeps its late free as its
// verdict.

import type { CodeRange, SymbolTable } from "../symbols/index.js";
import type { AttachPoint } from "./attach-points.js";
import { isFreePath } from "./free-path.js";

/** Where the late free runs, by kernel: its own function, or the softirq it is inlined in. */
const LATE_FREE_CODE = ["skb_defer_free_flush", "net_rx_action"];

/** Functions that hand a packet over to be freed (before its verdict tracepoint): on a packet not tracked
 * yet they are the end of a journey the trace did not see. */
const HANDING_OVER = new Set(["napi_consume_skb", "skb_attempt_defer_free", "__kfree_skb_defer"]);

/** The code address range whose consume_skb is a late free, from kallsyms; undefined where neither name
 * is listed (then a late free is traced as any consume_skb). */
export function lateFreeRange(symbols: Pick<SymbolTable, "range">): CodeRange | undefined {
  for (const name of LATE_FREE_CODE) {
    const r = symbols.range(name);
    if (r) return r;
  }
  return undefined;
}

/** Whether a packet may start being traced at this point (with tracking): not at the free path nor where a
 * packet is handed over to be freed. */
export function startsPackets(p: Pick<AttachPoint, "kind" | "name">): boolean {
  return !(isFreePath(p) || (p.kind === "function" && HANDING_OVER.has(p.name)));
}
