// Attach points that carry an skb: kernel functions with a `struct sk_buff *` parameter, and tracepoints
// whose arguments include one (BTF describes tracepoints as typedefs btf_trace_<name> -> pointer -> proto
// whose first parameter is the context `void *`; the tracepoint's own arguments follow).
import type { Btf } from "../btf/btf.js";
import { BTF_KIND } from "../btf/kinds.js";

export type AttachKind = "function" | "tracepoint";

export interface AttachPoint {
  name: string;
  /** "vmlinux" or the kernel module's name. */
  module: string;
  kind: AttachKind;
  /** 1-based position of the first skb parameter among the attach point's own arguments. */
  skbPos: number;
  nargs: number;
  /** The FUNC (functions) or the btf_trace_ typedef (tracepoints). */
  btfId: number;
}

const TP_PREFIX = "btf_trace_";

/** Functions the tracepoint macros generate for each tracepoint or event class (`__bpf_trace_<class>`,
 * `__probestub_<tp>`, `__traceiter_<tp>`, `perf_trace_<class>`, `trace_event_raw_event_<class>`). They take
 * the tracepoint's arguments, skb included, so BTF makes them look like attach points, but they run only
 * to deliver a tracepoint, never on a packet's own path: the tracepoint itself is the attach point. */
const TRACEPOINT_STUB = /^(__bpf_trace_|__probestub_|__traceiter_|perf_trace_|trace_event_raw_event_)/;

export function isTracepointStub(p: Pick<AttachPoint, "kind" | "name">): boolean {
  return p.kind === "function" && TRACEPOINT_STUB.test(p.name);
}

export function discoverAttachPoints(btf: Btf, module: string): AttachPoint[] {
  const skbIds = new Set(btf.idsNamed("sk_buff").filter((id) => btf.kind(id) === BTF_KIND.STRUCT));
  // Memo per parameter type id: 1 = skb pointer, 2 = struct/union by value, 3 = anything else.
  const memo = new Map<number, number>();
  const classify = (t: number): number => {
    let c = memo.get(t);
    if (c === undefined) {
      const r = btf.resolve(t);
      const k = btf.kind(r);
      if (k === BTF_KIND.STRUCT || k === BTF_KIND.UNION) c = 2;
      else if (k === BTF_KIND.PTR && skbIds.has(btf.resolve(btf.sizeOrType(r)))) c = 1;
      else c = 3;
      memo.set(t, c);
    }
    return c;
  };
  const out: AttachPoint[] = [];
  const seen = new Set<string>();
  if (skbIds.size === 0) return out;
  for (let id = btf.firstId; id <= btf.typeCount; id++) {
    const k = btf.kind(id);
    if (k === BTF_KIND.FUNC) {
      const proto = btf.sizeOrType(id);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO) continue;
      const n = btf.vlen(proto);
      let skbPos = 0;
      let usable = true;
      for (let i = 0; i < n; i++) {
        const t = btf.paramType(proto, i);
        // type 0 marks a variadic function; a struct/union by value shifts the argument registers.
        const c = t === 0 ? 2 : classify(t);
        if (c === 2) {
          usable = false;
          break;
        }
        if (c === 1 && skbPos === 0) skbPos = i + 1;
      }
      if (!usable || skbPos === 0) continue;
      const name = btf.name(id);
      if (seen.has(`f:${name}`)) continue;
      seen.add(`f:${name}`);
      out.push({ name, module, kind: "function", skbPos, nargs: n, btfId: id });
    } else if (k === BTF_KIND.TYPEDEF) {
      const ptr = btf.sizeOrType(id);
      if (btf.kind(ptr) !== BTF_KIND.PTR) continue;
      const proto = btf.sizeOrType(ptr);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO) continue;
      const name = btf.name(id);
      if (!name.startsWith(TP_PREFIX)) continue;
      const n = btf.vlen(proto);
      // The first parameter is the raw tracepoint's context, a void *.
      if (n === 0 || !isVoidPtr(btf, btf.paramType(proto, 0))) continue;
      let pos = 0;
      for (let i = 1; i < n && pos === 0; i++) {
        const t = btf.paramType(proto, i);
        if (t !== 0 && classify(t) === 1) pos = i;
      }
      if (pos === 0) continue;
      const tp = name.slice(TP_PREFIX.length);
      if (seen.has(`t:${tp}`)) continue;
      seen.add(`t:${tp}`);
      out.push({ name: tp, module, kind: "tracepoint", skbPos: pos, nargs: n - 1, btfId: id });
    }
  }
  return out;
}

function isVoidPtr(btf: Btf, t: number): boolean {
  const r = btf.resolve(t);
  return btf.kind(r) === BTF_KIND.PTR && btf.resolve(btf.sizeOrType(r)) === 0;
}
