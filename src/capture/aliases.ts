// Members the kernel's headers name with a #define over an embedded struct. BTF has no macros, so
// `sk->sk_family` is not in it, only what it expands to (`__sk_common.skc_family`); this table lets a
// capture be written as kernel code is. From include/net/sock.h (struct sock) and include/net/inet_sock.h
// (struct inet_sock); an alias whose target this kernel lacks is reported as such.
import { BTF_KIND, type Btf } from "../btf/index.js";

const SOCK_COMMON = [
  "node",
  "nulls_node",
  "refcnt",
  "tx_queue_mapping",
  "rx_queue_mapping",
  "dontcopy_begin",
  "dontcopy_end",
  "hash",
  "portpair",
  "num",
  "dport",
  "addrpair",
  "daddr",
  "rcv_saddr",
  "family",
  "state",
  "reuse",
  "reuseport",
  "ipv6only",
  "net_refcnt",
  "bound_dev_if",
  "bind_node",
  "prot",
  "net",
  "v6_daddr",
  "v6_rcv_saddr",
  "cookie",
  "incoming_cpu",
  "flags",
  "rxhash",
];

/** struct name -> alias -> the dotted member path it stands for. */
const ALIASES: Record<string, Record<string, string>> = {
  sock: {
    ...Object.fromEntries(SOCK_COMMON.map((m) => [`sk_${m}`, `__sk_common.skc_${m}`])),
    sk_rmem_alloc: "sk_backlog.rmem_alloc",
  },
  inet_sock: {
    inet_daddr: "sk.__sk_common.skc_daddr",
    inet_rcv_saddr: "sk.__sk_common.skc_rcv_saddr",
    inet_dport: "sk.__sk_common.skc_dport",
    inet_num: "sk.__sk_common.skc_num",
  },
};

/** A dotted member path (`__sk_common.skc_family`) in a struct: its bit offset from the struct's start, bit
 * size (0 unless a bitfield) and type; undefined when a part is missing. */
export function resolvePath(
  btf: Btf,
  structId: number,
  path: string,
): { bitOffset: number; bitSize: number; type: number } | undefined {
  let id = structId;
  let bitOffset = 0;
  let found: { bitSize: number; type: number } | undefined;
  for (const part of path.split(".")) {
    if (found) {
      id = btf.resolve(found.type);
      if (!isComposite(btf, id)) return undefined;
    }
    const m = btf.member(id, part);
    if (!m) return undefined;
    bitOffset += m.absBitOffset;
    found = m;
  }
  return found && { bitOffset, bitSize: found.bitSize, type: found.type };
}

function isComposite(btf: Btf, id: number): boolean {
  const k = btf.kind(id);
  return k === BTF_KIND.STRUCT || k === BTF_KIND.UNION;
}

/** The aliases that apply to a struct: its own, and those of the struct it begins with (a tcp_sock begins
 * with an inet_connection_sock, which begins with an inet_sock, which begins with a sock), with the path to
 * that struct in front. */
export function aliasesOf(btf: Btf, structId: number): Map<string, string> {
  const out = new Map<string, string>();
  let id = structId;
  let prefix = "";
  for (let depth = 0; depth < 8; depth++) {
    for (const [alias, path] of Object.entries(ALIASES[btf.name(id)] ?? {}))
      if (!out.has(alias)) out.set(alias, prefix + path);
    const first = btf.members(id)[0];
    if (!first || first.name === "" || first.bitOffset !== 0) break;
    const inner = btf.resolve(first.type);
    if (btf.kind(inner) !== BTF_KIND.STRUCT) break;
    prefix += `${first.name}.`;
    id = inner;
  }
  return out;
}

/** Every member path of a struct reachable without following a pointer (through embedded structs and
 * unions, anonymous ones looked through), down to `depth` named levels. */
export function memberPaths(btf: Btf, structId: number, depth = 3): string[] {
  const out: string[] = [];
  const walk = (id: number, prefix: string, left: number) => {
    for (const m of btf.members(id)) {
      const inner = btf.resolve(m.type);
      if (m.name === "") {
        if (isComposite(btf, inner)) walk(inner, prefix, left);
        continue;
      }
      out.push(prefix + m.name);
      if (left > 1 && isComposite(btf, inner)) walk(inner, `${prefix}${m.name}.`, left - 1);
    }
  };
  walk(structId, "", depth);
  return out;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/** What to write instead of a member the struct does not have: a nested member of that very name
 * (`skc_family` is `__sk_common.skc_family`), else the member, nested member or alias closest in spelling. */
export function closestMember(btf: Btf, structId: number, name: string): string | undefined {
  const paths = memberPaths(btf, structId);
  const last = (p: string) => p.slice(p.lastIndexOf(".") + 1);
  const exact = paths.filter((p) => last(p).toLowerCase() === name.toLowerCase());
  if (exact.length > 0) return exact.sort((a, b) => a.length - b.length)[0];
  let best: { path: string; d: number } | undefined;
  const aliases = [...aliasesOf(btf, structId)].filter(([, p]) => resolvePath(btf, structId, p));
  for (const p of [...aliases.map(([a]) => a), ...paths]) {
    const d = distance(last(p).toLowerCase(), name.toLowerCase());
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (!best || d < best.d)) best = { path: p, d };
  }
  return best?.path;
}
