// Attach points that carry an skb: kernel functions with a `struct sk_buff *` parameter, and tracepoints
// whose arguments include one (BTF describes tracepoints as typedefs btf_trace_<name> -> pointer -> proto
// whose first parameter is the context `void *`; the tracepoint's own arguments follow).
import { createHash } from "node:crypto";
import type { Btf } from "../btf/btf.js";
import { type DerivedCache, openDerivedCache } from "../btf/derived-cache.js";
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
  const out: AttachPoint[] = [];
  if (skbIds.size === 0) return out;
  // Memos in typed arrays indexed by type id (a Map costs more than the work it saves here).
  // Per parameter type: 1 = skb pointer, 2 = struct/union by value, 3 = anything else, 0 = not yet known.
  const cls = new Uint8Array(btf.typeCount + 1);
  const classify = (t: number): number => {
    let c = cls[t]!;
    if (c === 0) {
      const r = btf.resolve(t);
      const k = btf.kind(r);
      if (k === BTF_KIND.STRUCT || k === BTF_KIND.UNION) c = 2;
      else if (k === BTF_KIND.PTR && skbIds.has(btf.resolve(btf.sizeOrType(r)))) c = 1;
      else c = 3;
      cls[t] = c;
    }
    return c;
  };
  // Per FUNC_PROTO (many functions share one): skb position + 1, 1 for none or unusable, 0 = not yet known.
  const protoPos = new Uint16Array(btf.typeCount + 1);
  const funcSkbPos = (proto: number): number => {
    let v = protoPos[proto]!;
    if (v === 0) {
      v = 1;
      for (let i = 0, n = btf.vlen(proto); i < n; i++) {
        const t = btf.paramType(proto, i);
        // type 0 marks a variadic function; a struct/union by value shifts the argument registers.
        const c = t === 0 ? 2 : classify(t);
        if (c === 2) {
          v = 1;
          break;
        }
        if (c === 1 && v === 1) v = i + 2;
      }
      protoPos[proto] = v;
    }
    return v - 1;
  };
  const seen = new Set<string>();
  for (let id = btf.firstId; id <= btf.typeCount; id++) {
    const k = btf.kind(id);
    if (k === BTF_KIND.FUNC) {
      const proto = btf.sizeOrType(id);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO) continue;
      const skbPos = funcSkbPos(proto);
      if (skbPos === 0) continue;
      const name = btf.name(id);
      if (seen.has(`f:${name}`)) continue;
      seen.add(`f:${name}`);
      out.push({ name, module, kind: "function", skbPos, nargs: btf.vlen(proto), btfId: id });
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

const CACHE_KIND = "attach-points";
let codeHash: string | undefined;

/**
 * discoverAttachPoints, remembered in the derived-data cache under the BTF's content hash, the module's
 * name and the discovery code itself (changed code never reads what older code found). What comes back
 * from the cache is checked against this BTF: every id in range, of the right kind and name, the skb
 * where it says, so a stale or damaged entry cannot reach a program.
 */
export function discoverAttachPointsCached(
  btf: Btf,
  module: string,
  cache: DerivedCache | undefined = openDerivedCache(),
): AttachPoint[] {
  if (!cache) return discoverAttachPoints(btf, module);
  codeHash ??= createHash("sha256")
    .update(`${discoverAttachPoints.toString()}${isVoidPtr.toString()}`)
    .digest("hex")
    .slice(0, 16);
  const key = createHash("sha256")
    .update(`${btf.contentHash()} ${module} ${codeHash}`)
    .digest("hex")
    .slice(0, 32);
  const hit = cache.get(CACHE_KIND, key, (v): v is Columns => isColumns(v));
  if (hit) {
    const points = fromColumns(hit, module);
    if (points && validPoints(btf, points)) return points;
  }
  const points = discoverAttachPoints(btf, module);
  cache.put(CACHE_KIND, key, toColumns(points));
  return points;
}

/** The cache's form: one array per field (a tenth of the garbage of 2,400 objects to parse). */
interface Columns {
  name: string[];
  /** "f" function, "t" tracepoint, one letter per point. */
  kind: string;
  skbPos: number[];
  nargs: number[];
  btfId: number[];
}

function toColumns(points: AttachPoint[]): Columns {
  return {
    name: points.map((p) => p.name),
    kind: points.map((p) => (p.kind === "function" ? "f" : "t")).join(""),
    skbPos: points.map((p) => p.skbPos),
    nargs: points.map((p) => p.nargs),
    btfId: points.map((p) => p.btfId),
  };
}

function isColumns(v: unknown): v is Columns {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Columns;
  const n = c.name?.length;
  return (
    Array.isArray(c.name) &&
    typeof c.kind === "string" &&
    c.kind.length === n &&
    [c.skbPos, c.nargs, c.btfId].every((a) => Array.isArray(a) && a.length === n)
  );
}

function fromColumns(c: Columns, module: string): AttachPoint[] | undefined {
  const out: AttachPoint[] = new Array(c.name.length);
  for (let i = 0; i < c.name.length; i++) {
    const k = c.kind[i];
    if (k !== "f" && k !== "t") return undefined;
    out[i] = {
      name: c.name[i]!,
      module,
      kind: k === "f" ? "function" : "tracepoint",
      skbPos: c.skbPos[i]!,
      nargs: c.nargs[i]!,
      btfId: c.btfId[i]!,
    };
  }
  return out;
}

/** Each point is what this BTF says: id in range, kind and name right, an skb pointer at skbPos. */
function validPoints(btf: Btf, points: AttachPoint[]): boolean {
  const int = (x: unknown, lo: number, hi: number) =>
    Number.isInteger(x) && (x as number) >= lo && (x as number) <= hi;
  const skbTypes = new Set<number>();
  const isSkb = (t: number) => {
    if (skbTypes.has(t)) return true;
    if (!isSkbPtr(btf, t)) return false;
    skbTypes.add(t);
    return true;
  };
  for (const p of points) {
    if (typeof p.name !== "string" || !int(p.btfId, btf.firstId, btf.typeCount)) return false;
    if (!int(p.nargs, 0, 0xffff) || !int(p.skbPos, 1, p.nargs)) return false;
    const id = p.btfId;
    if (p.kind === "function") {
      if (btf.kind(id) !== BTF_KIND.FUNC || btf.name(id) !== p.name) return false;
      const proto = btf.sizeOrType(id);
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO || btf.vlen(proto) !== p.nargs) return false;
      if (!isSkb(btf.paramType(proto, p.skbPos - 1))) return false;
    } else {
      if (btf.kind(id) !== BTF_KIND.TYPEDEF || btf.name(id) !== TP_PREFIX + p.name) return false;
      const ptr = btf.sizeOrType(id);
      const proto = btf.kind(ptr) === BTF_KIND.PTR ? btf.sizeOrType(ptr) : 0;
      if (btf.kind(proto) !== BTF_KIND.FUNC_PROTO || btf.vlen(proto) !== p.nargs + 1) return false;
      if (!isSkb(btf.paramType(proto, p.skbPos))) return false;
    }
  }
  return true;
}

function isSkbPtr(btf: Btf, t: number): boolean {
  if (t === 0) return false;
  const r = btf.resolve(t);
  if (btf.kind(r) !== BTF_KIND.PTR) return false;
  const s = btf.resolve(btf.sizeOrType(r));
  return btf.kind(s) === BTF_KIND.STRUCT && btf.name(s) === "sk_buff";
}
