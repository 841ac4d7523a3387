// The device a tracepoint is about, where it says so: net_dev_start_xmit(skb, dev) and
// net_dev_xmit(skb, rc, dev, skb_len) pass the device as an argument of their own. By the time
// net_dev_xmit fires on a veth, skb->dev is already the peer's (the packet was handed over, in the other
// namespace), so the device part (-w) and the device and namespace selectors read the argument instead.
// Found in BTF by type (a `struct net_device *`, const or not), not by position.
import type { Btf } from "../btf/btf.js";
import { BTF_KIND } from "../btf/kinds.js";
import type { AttachPoint } from "./attach-points.js";

/** The index among the tracepoint's own arguments (a u64 slot of the raw tracepoint's context) of its
 * first `struct net_device *`, or undefined. */
export function deviceArgOf(btf: Btf, p: AttachPoint): number | undefined {
  if (p.kind !== "tracepoint") return undefined;
  const proto = btf.sizeOrType(btf.sizeOrType(p.btfId));
  // Parameter 0 of a btf_trace_ prototype is the context: argument i is parameter i + 1.
  for (let i = 1; i < btf.vlen(proto); i++) {
    const t = btf.paramType(proto, i);
    if (t === 0) continue;
    const r = btf.resolve(t);
    if (btf.kind(r) !== BTF_KIND.PTR) continue;
    const s = btf.resolve(btf.sizeOrType(r));
    if (btf.kind(s) === BTF_KIND.STRUCT && btf.name(s) === "net_device") return i - 1;
  }
  return undefined;
}

/** The tracepoints among `points` (all of one BTF's) that have a device argument, with its index. */
export function deviceArgs(btf: Btf, points: AttachPoint[], into = new Map<AttachPoint, number>()) {
  for (const p of points) {
    const i = deviceArgOf(btf, p);
    if (i !== undefined) into.set(p, i);
  }
  return into;
}
