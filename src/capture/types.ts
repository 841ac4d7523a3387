// BTF types as the capture compiler sees them: what a value is (integer, enum, pointer, struct, array),
// its size, and the typedef names on the way (`__be16` says "network byte order", `char` says "text").
import { BTF_KIND, type Btf } from "../btf/index.js";
import { CaptureError } from "./parse.js";

export type Ty =
  | { k: "int"; size: number; signed: boolean; bool: boolean; names: string[] }
  | { k: "enum"; id: number; size: number; signed: boolean; names: string[] }
  | { k: "ptr"; to: number; names: string[] } // to: BTF id of the pointee, 0 for void
  | { k: "struct"; id: number; size: number; names: string[] }
  | { k: "array"; elem: number; count: number; size: number; names: string[] }
  | { k: "other"; names: string[] };

export function tyOf(btf: Btf, id: number): Ty {
  const names: string[] = [];
  let t = id;
  for (;;) {
    const k = btf.kind(t);
    if (k === BTF_KIND.TYPEDEF) {
      names.push(btf.name(t));
      t = btf.sizeOrType(t);
    } else if (
      k === BTF_KIND.CONST ||
      k === BTF_KIND.VOLATILE ||
      k === BTF_KIND.RESTRICT ||
      k === BTF_KIND.TYPE_TAG
    ) {
      t = btf.sizeOrType(t);
    } else {
      break;
    }
  }
  const k = t === 0 ? -1 : btf.kind(t);
  const own = t === 0 ? "void" : btf.name(t);
  switch (k) {
    case BTF_KIND.INT: {
      const info = btf.intInfo(t);
      const size = btf.sizeOrType(t);
      return {
        k: "int",
        size,
        signed: info.signed,
        bool: own === "_Bool" || own === "bool",
        names: [...names, own],
      };
    }
    case BTF_KIND.ENUM:
    case BTF_KIND.ENUM64:
      return {
        k: "enum",
        id: t,
        size: btf.sizeOrType(t),
        signed: btf.kindFlag(t),
        names: [...names, `enum ${own}`],
      };
    case BTF_KIND.PTR:
      return {
        k: "ptr",
        to: btf.sizeOrType(t),
        names: [...names, `${pointeeName(btf, btf.sizeOrType(t))} *`],
      };
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION: {
      const kw = k === BTF_KIND.UNION ? "union" : "struct";
      return {
        k: "struct",
        id: t,
        size: btf.sizeOrType(t),
        names: [...names, `${kw} ${own || "(anonymous)"}`],
      };
    }
    case BTF_KIND.ARRAY: {
      const a = btf.array(t);
      const elem = tyOf(btf, a.type);
      const size = a.count * sizeOf(elem);
      return {
        k: "array",
        elem: a.type,
        count: a.count,
        size,
        names: [...names, `${elem.names[0]}[${a.count}]`],
      };
    }
    default:
      return { k: "other", names: [...names, own || "(anonymous)"] };
  }
}

function pointeeName(btf: Btf, id: number): string {
  if (id === 0) return "void";
  return tyOf(btf, id).names[0]!;
}

/** A pointer to a struct or union (what a cast makes). */
export function ptrTo(btf: Btf, structId: number): Ty {
  return { k: "ptr", to: structId, names: [`${tyOf(btf, structId).names[0]} *`] };
}

export function sizeOf(t: Ty): number {
  switch (t.k) {
    case "ptr":
      return 8;
    case "other":
      return 0;
    default:
      return t.size;
  }
}

export function describeTy(t: Ty): string {
  return t.names[0]!;
}

/** A scalar fits in a register: integers, enums and pointers. */
export function isScalar(t: Ty): boolean {
  return t.k === "int" || t.k === "enum" || t.k === "ptr";
}

/** Network byte order, as the kernel spells it in its types. */
export function isBigEndian(t: Ty): boolean {
  return t.names.some((n) => /^__be(16|32|64)$/.test(n));
}

/** `char`, `signed char`: text (unsigned char arrays are bytes: MAC addresses, hashes). */
export function isChar(t: Ty): boolean {
  return t.k === "int" && t.size === 1 && t.names.some((n) => n === "char" || n === "signed char");
}

/** The struct or union a pointer points to (through typedefs), or a clear error. */
export function pointeeStruct(btf: Btf, t: Ty, what: string): number {
  if (t.k !== "ptr") throw new CaptureError(`${what} is a ${describeTy(t)}, not a pointer to a struct`);
  if (t.to === 0) throw new CaptureError(`${what} is a void pointer: cast it, e.g. (struct iphdr *)${what}`);
  const p = tyOf(btf, t.to);
  if (p.k !== "struct") throw new CaptureError(`${what} points to ${describeTy(p)}, not to a struct`);
  return p.id;
}
