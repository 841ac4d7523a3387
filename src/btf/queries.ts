// Questions users ask of BTF, with ipftrace2's semantics: offsetof looks through anonymous members, sizeof
// resolves typedefs and qualifiers, typeof names a member's type ("uintptr_t" for any pointer).
import type { Btf, Member } from "./btf.js";
import { BTF_KIND, BtfError, kindName } from "./kinds.js";

/** "struct foo" / "union foo" / "foo" -> the struct or union's id (typedefs to one count too). */
export function findComposite(btf: Btf, typeName: string): number {
  const { name, want } = stripTag(typeName);
  for (const id of btf.idsNamed(name)) {
    const r = btf.resolve(id);
    const k = btf.kind(r);
    if ((k === BTF_KIND.STRUCT || k === BTF_KIND.UNION) && (want === undefined || want === k)) {
      if (btf.vlen(r) > 0 || btf.sizeOrType(r) > 0) return r;
    }
  }
  throw new BtfError(`BTF has no struct or union named "${name}"`);
}

function stripTag(typeName: string): { name: string; want?: number } {
  const t = typeName.trim();
  if (t.startsWith("struct ")) return { name: t.slice(7).trim(), want: BTF_KIND.STRUCT };
  if (t.startsWith("union ")) return { name: t.slice(6).trim(), want: BTF_KIND.UNION };
  if (t.startsWith("enum ")) return { name: t.slice(5).trim() };
  return { name: t };
}

export interface FoundMember extends Member {
  /** Bit offset from the start of the outer struct (through anonymous members). */
  absBitOffset: number;
}

/** A named member of a struct/union, looking through anonymous struct/union members. */
export function findMember(btf: Btf, compositeId: number, member: string): FoundMember | undefined {
  for (const m of btf.members(compositeId)) {
    if (m.name === member) return { ...m, absBitOffset: m.bitOffset };
    if (m.name === "") {
      const inner = btf.resolve(m.type);
      const k = btf.kind(inner);
      if (k === BTF_KIND.STRUCT || k === BTF_KIND.UNION) {
        const f = findMember(btf, inner, member);
        if (f) return { ...f, absBitOffset: f.absBitOffset + m.bitOffset };
      }
    }
  }
  return undefined;
}

/** A member by name, or by a dotted path through named struct/union members ("a.b"). */
function memberOf(btf: Btf, typeName: string, member: string): FoundMember {
  let id = findComposite(btf, typeName);
  let base = 0;
  let path = "";
  let found: FoundMember | undefined;
  for (const part of member.split(".")) {
    if (found) {
      const inner = btf.resolve(found.type);
      const k = btf.kind(inner);
      if (k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) {
        throw new BtfError(
          `${path} in ${describe(btf, id)} is not a struct or union, so it has no member "${part}"`,
        );
      }
      id = inner;
    }
    const m = findMember(btf, id, part);
    if (!m) throw new BtfError(`${describe(btf, id)} has no member "${part}"`);
    base += found ? found.absBitOffset : 0;
    found = m;
    path = path ? `${path}.${part}` : part;
  }
  return { ...found!, absBitOffset: found!.absBitOffset + base };
}

function describe(btf: Btf, id: number): string {
  const kw = btf.kind(id) === BTF_KIND.UNION ? "union" : "struct";
  const n = btf.name(id);
  return n ? `${kw} ${n}` : `anonymous ${kw}`;
}

export function offsetof(btf: Btf, typeName: string, member: string): number {
  const m = memberOf(btf, typeName, member);
  if (m.bitSize !== 0 || m.absBitOffset % 8 !== 0) {
    throw new BtfError(
      `${typeName}.${member} is a bitfield (bit ${m.absBitOffset}, ${m.bitSize || "?"} bits) and has no byte offset`,
    );
  }
  return m.absBitOffset / 8;
}

/** Size in bytes of a resolved type id. */
export function sizeOfId(btf: Btf, id: number): number {
  const r = btf.resolve(id);
  switch (btf.kind(r)) {
    case BTF_KIND.INT:
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION:
    case BTF_KIND.ENUM:
    case BTF_KIND.ENUM64:
    case BTF_KIND.FLOAT:
      return btf.sizeOrType(r);
    case BTF_KIND.PTR:
      return 8;
    case BTF_KIND.ARRAY: {
      const a = btf.array(r);
      return a.count * sizeOfId(btf, a.type);
    }
    default:
      throw new BtfError(`type "${btf.name(r)}" has no size`);
  }
}

const SIZED = new Set<number>([
  BTF_KIND.INT,
  BTF_KIND.STRUCT,
  BTF_KIND.UNION,
  BTF_KIND.ENUM,
  BTF_KIND.ENUM64,
  BTF_KIND.FLOAT,
  BTF_KIND.TYPEDEF,
]);

export function sizeof(btf: Btf, typeName: string): number {
  const t = typeName.trim();
  if (t === "uintptr_t" || t.endsWith("*")) return 8;
  const arr = /^(.*)\[(\d+)\]$/.exec(t);
  if (arr) return Number(arr[2]) * sizeof(btf, arr[1]!);
  const { name, want } = stripTag(t);
  for (const id of btf.idsNamed(name)) {
    const k = btf.kind(id);
    if (!SIZED.has(k)) continue;
    if (want !== undefined && btf.kind(btf.resolve(id)) !== want) continue;
    // Forward declarations and empty placeholders have size 0: keep looking for the real one.
    const r = btf.resolve(id);
    const rk = btf.kind(r);
    if ((rk === BTF_KIND.STRUCT || rk === BTF_KIND.UNION) && btf.vlen(r) === 0 && btf.sizeOrType(r) === 0)
      continue;
    return sizeOfId(btf, id);
  }
  throw new BtfError(`BTF has no type named "${name}"`);
}

/** The name a user would write for a type id ("__u32", "unsigned int", "char[16]", "uintptr_t"). */
export function typeName(btf: Btf, id: number): string {
  const t = btf.skipQualifiers(id);
  const k = btf.kind(t);
  if (k === BTF_KIND.PTR) return "uintptr_t";
  if (k === BTF_KIND.TYPEDEF && btf.kind(btf.resolve(t)) === BTF_KIND.PTR) return "uintptr_t";
  if (k === BTF_KIND.ARRAY) {
    const a = btf.array(t);
    return `${typeName(btf, a.type)}[${a.count}]`;
  }
  const n = btf.name(t);
  if (n === "") throw new BtfError(`the member's type is anonymous (${kindName(k)}) and has no name`);
  return n;
}

export function typeofMember(btf: Btf, typeNameArg: string, member: string): string {
  return typeName(btf, memberOf(btf, typeNameArg, member).type);
}

export function enumValues(btf: Btf, enumName: string): Map<string, bigint> {
  const { name } = stripTag(enumName);
  for (const id of btf.idsNamed(name)) {
    const r = btf.resolve(id);
    const k = btf.kind(r);
    if (k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64) return new Map(btf.enumerators(r));
  }
  throw new BtfError(`BTF has no enum named "${name}"`);
}
