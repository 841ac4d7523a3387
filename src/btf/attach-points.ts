// Attach points that carry an skb: kernel functions with a `struct sk_buff *` parameter, and tracepoints
// whose arguments include one (BTF describes tracepoints as typedefs btf_trace_<name> -> pointer -> proto
// whose first parameter is the context `void *`; the tracepoint's own arguments follow).
import type { Btf } from "./btf.js";
import { BTF_KIND } from "./kinds.js";

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

export function discoverAttachPoints(btf: Btf, module: string): AttachPoint[] {
  const skbIds = skbStructIds(btf);
  const isSkbPtr = (t: number): boolean => {
    const r = btf.resolve(t);
    return btf.kind(r) === BTF_KIND.PTR && skbIds.has(btf.resolve(btf.sizeOrType(r)));
  };
  const out: AttachPoint[] = [];
  const seen = new Set<string>();
  for (const id of btf.ownIds()) {
    const k = btf.kind(id);
    if (k === BTF_KIND.FUNC) {
      const proto = btf.sizeOrType(id);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO) continue;
      const params = btf.params(proto);
      let skbPos = 0;
      let usable = true;
      for (let i = 0; i < params.length; i++) {
        const p = params[i]!;
        if (p.type === 0) {
          usable = false; // variadic
          break;
        }
        const rk = btf.kind(btf.resolve(p.type));
        if (rk === BTF_KIND.STRUCT || rk === BTF_KIND.UNION) {
          usable = false; // passed by value: argument registers no longer map one to one
          break;
        }
        if (skbPos === 0 && isSkbPtr(p.type)) skbPos = i + 1;
      }
      if (!usable || skbPos === 0) continue;
      const name = btf.name(id);
      if (seen.has(`f:${name}`)) continue;
      seen.add(`f:${name}`);
      out.push({ name, module, kind: "function", skbPos, nargs: params.length, btfId: id });
    } else if (k === BTF_KIND.TYPEDEF) {
      const name = btf.name(id);
      if (!name.startsWith(TP_PREFIX)) continue;
      const ptr = btf.sizeOrType(id);
      if (btf.kind(ptr) !== BTF_KIND.PTR) continue;
      const proto = btf.sizeOrType(ptr);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO) continue;
      const args = btf.params(proto).slice(1);
      const pos = args.findIndex((a) => a.type !== 0 && isSkbPtr(a.type));
      if (pos < 0) continue;
      const tp = name.slice(TP_PREFIX.length);
      if (seen.has(`t:${tp}`)) continue;
      seen.add(`t:${tp}`);
      out.push({ name: tp, module, kind: "tracepoint", skbPos: pos + 1, nargs: args.length, btfId: id });
    }
  }
  return out;
}

function skbStructIds(btf: Btf): Set<number> {
  return new Set(btf.idsNamed("sk_buff").filter((id) => btf.kind(id) === BTF_KIND.STRUCT));
}
