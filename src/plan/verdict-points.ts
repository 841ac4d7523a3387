// Where a packet's journey ends: the kfree_skb tracepoint (dropped: with a reason on kernels since 5.17,
// and where) and consume_skb (freed normally: where, on kernels since 6.3). Tracepoints exist on every
// kernel ipft runs on, so these are traced on every backend, whatever -r selects. Their arguments are found
// in BTF by type, not by position, since they changed over kernel versions:
//   kfree_skb(skb, location)                   -> (skb, location, enum skb_drop_reason) -> (..., rx_sk)
// (rx_sk, the socket a received packet was for, since 6.11: the drop-facts part reads it).
//   consume_skb(skb)                           -> (skb, location)
import type { Btf } from "../btf/btf.js";
import { BTF_KIND } from "../btf/kinds.js";
import type { VerdictSource } from "../program/main-program.js";
import { VERDICT_CONSUME, VERDICT_DROP } from "../record/record.js";
import type { AttachPoint } from "./attach-points.js";

const VERDICTS: Record<string, number> = { kfree_skb: VERDICT_DROP, consume_skb: VERDICT_CONSUME };

/** The verdict tracepoints among `points` (vmlinux's), with where their arguments are. */
export function verdictPoints(btf: Btf, points: AttachPoint[]): Map<AttachPoint, VerdictSource> {
  const out = new Map<AttachPoint, VerdictSource>();
  for (const p of points) {
    const kind = VERDICTS[p.name];
    if (kind === undefined || p.kind !== "tracepoint" || p.module !== "vmlinux") continue;
    out.set(p, { kind, ...argsOf(btf, p) });
  }
  return out;
}

/** Argument i of the tracepoint is parameter i + 1 of its btf_trace_ prototype (parameter 0 is the
 * context). The location is the first `void *` after the skb; the reason is typed enum skb_drop_reason. */
function argsOf(btf: Btf, p: AttachPoint): { locationArg?: number; reasonArg?: number; sockArg?: number } {
  const proto = btf.sizeOrType(btf.sizeOrType(p.btfId));
  const r: { locationArg?: number; reasonArg?: number; sockArg?: number } = {};
  for (let i = p.skbPos + 1; i < btf.vlen(proto); i++) {
    const t = btf.resolve(btf.paramType(proto, i));
    const k = btf.kind(t);
    if (r.locationArg === undefined && k === BTF_KIND.PTR && btf.resolve(btf.sizeOrType(t)) === 0)
      r.locationArg = i - 1;
    else if (
      r.sockArg === undefined &&
      k === BTF_KIND.PTR &&
      btf.name(btf.resolve(btf.sizeOrType(t))) === "sock"
    )
      r.sockArg = i - 1;
    else if (
      r.reasonArg === undefined &&
      (k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64) &&
      btf.name(t) === "skb_drop_reason"
    )
      r.reasonArg = i - 1;
  }
  return r;
}
