// How a captured field is shown: the format the user asked for (or the type's natural one), checked against
// the field's type, and the decoding of its bytes into a value (numbers stay numbers for JSON).
import { BTF_KIND, type Btf } from "../btf/index.js";
import { ipv6Text } from "../identity/addresses.js";
import { CaptureError, type Format } from "./parse.js";
import { describeTy, isBigEndian, isChar, type Ty, tyOf } from "./types.js";

export type IntFormat = "dec" | "hex" | "bool" | "enum" | "flags";
export type BytesFormat = "str" | "mac" | "ip4" | "ip6" | "hex";

export type Decoding =
  | {
      k: "int";
      size: number; // bytes read
      signed: boolean;
      be: boolean;
      shift: number; // bitfields: bits below the field
      bits: number; // the field's width
      fmt: IntFormat;
      names?: [string, bigint][]; // enum and flags
    }
  | { k: "bytes"; size: number; fmt: BytesFormat };

export const FORMATS = ["dec", "hex", "bool", "enum", "flags", "str", "mac", "ip4", "ip6"] as const;

/** TCP's flag byte (byte 13 of the header), lowest bit first. */
export const TCP_FLAGS: [string, bigint][] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"].map(
  (n, i) => [n, 1n << BigInt(i)],
);

export interface FieldShape {
  ty: Ty;
  size: number;
  /** Bitfields: position and width inside the bytes read. */
  bit?: { shift: number; bits: number };
  /** The member's name (a hint for the default format: `saddr` is an address). */
  member?: string;
  /** A default chosen by the compiler (tcp->flags). */
  preset?: { fmt: IntFormat; names: [string, bigint][] };
}

export function chooseDecoding(btf: Btf, f: FieldShape, format: Format | undefined, what: string): Decoding {
  const t = f.ty;
  const scalar = t.k === "int" || t.k === "enum" || t.k === "ptr";
  const intDec = (fmt: IntFormat, names?: [string, bigint][]): Decoding => {
    if (!scalar && !f.bit)
      throw new CaptureError(`${what}: format ${fmt} needs an integer, not ${describeTy(t)}`);
    const size = f.size;
    const bits = f.bit ? f.bit.bits : size * 8;
    return {
      k: "int",
      size,
      signed: (t.k === "int" || t.k === "enum") && t.signed,
      be: isBigEndian(t) && !f.bit,
      shift: f.bit?.shift ?? 0,
      bits,
      fmt,
      ...(names ? { names } : {}),
    };
  };
  const bytes = (fmt: BytesFormat, need?: number): Decoding => {
    if (f.bit)
      throw new CaptureError(`${what}: a bitfield can only be shown as dec, hex, bool, enum or flags`);
    if (need !== undefined && f.size !== need)
      throw new CaptureError(
        `${what}: format ${fmt} needs ${need} bytes, but ${describeTy(t)} has ${f.size}`,
      );
    return { k: "bytes", size: f.size, fmt };
  };
  if (format) {
    switch (format.name) {
      case "dec":
      case "bool":
        return intDec(format.name);
      case "hex":
        return scalar || f.bit ? intDec("hex") : bytes("hex");
      case "enum":
      case "flags": {
        const names = format.arg
          ? enumByName(btf, format.arg)
          : t.k === "enum"
            ? btf.enumerators(t.id)
            : f.preset?.names;
        if (!names)
          throw new CaptureError(
            `${what}: ${describeTy(t)} is not an enum; name one, e.g. ${format.name}(IPPROTO) or ${format.name}(enum NAME)`,
          );
        return intDec(format.name, names);
      }
      case "str":
        return bytes("str");
      case "mac":
        return bytes("mac", 6);
      case "ip4":
        return bytes("ip4", 4);
      case "ip6":
        return bytes("ip6", 16);
      default:
        throw new CaptureError(`${what}: unknown format "${format.name}" (formats: ${FORMATS.join(", ")})`);
    }
  }
  if (f.preset) return intDec(f.preset.fmt, f.preset.names);
  if (f.bit) return intDec("dec");
  switch (t.k) {
    case "int":
      if (t.bool) return intDec("bool");
      if (t.size === 4 && isBigEndian(t) && f.member && /addr$/.test(f.member)) return bytes("ip4", 4);
      return intDec("dec");
    case "enum":
      return intDec("enum", btf.enumerators(t.id));
    case "ptr":
      return intDec("hex");
    case "array": {
      const elem = tyOf(btf, t.elem);
      if (isChar(elem)) return bytes("str");
      if (elem.k === "int" && elem.size === 1 && t.count === 6) return bytes("mac");
      return bytes("hex");
    }
    case "struct":
      if (t.names.includes("struct in6_addr") && f.size === 16) return bytes("ip6");
      return bytes("hex");
    default:
      throw new CaptureError(`${what} has type ${describeTy(t)}, which cannot be captured`);
  }
}

/** An enum by its name (`enum x` or `x`), or else the enum one of whose names starts with this prefix
 * (`IPPROTO` finds the anonymous enum of IPPROTO_UDP and friends). */
export function enumByName(btf: Btf, name: string): [string, bigint][] {
  const bare = name.replace(/^enum\s+/, "");
  for (const id of btf.idsNamed(bare)) {
    const r = btf.resolve(id);
    const k = btf.kind(r);
    if (k === BTF_KIND.ENUM || k === BTF_KIND.ENUM64) return btf.enumerators(r);
  }
  for (let id = 1; id <= btf.typeCount; id++) {
    const k = btf.kind(id);
    if (k !== BTF_KIND.ENUM && k !== BTF_KIND.ENUM64) continue;
    const list = btf.enumerators(id);
    if (list.some(([n]) => n.startsWith(bare))) return list;
  }
  throw new CaptureError(`BTF has no enum named "${bare}" and no enum whose names start with "${bare}"`);
}

/** A decoded field: numbers (bigint beyond 2^53), strings, booleans; null when it could not be read. */
export type CaptureValue = number | bigint | string | boolean | null;

function readUnsigned(b: Uint8Array, off: number, size: number, be: boolean): bigint | number {
  if (size <= 6) {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + b[off + (be ? i : size - 1 - i)]!;
    return v;
  }
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[off + (be ? i : size - 1 - i)]!);
  return v;
}

/** A reader for one field, made once: fields of up to 4 bytes decode with plain numbers, wider ones with
 * bigint. */
export function fieldDecoder(d: Decoding): (b: Uint8Array, off: number) => CaptureValue {
  if (d.k === "bytes") return (b, off) => formatBytes(d.fmt, b.subarray(off, off + d.size));
  if (d.size > 4) return (b, off) => decodeWide(d, b, off);
  const { size, be, shift, bits, signed, fmt } = d;
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const half = 2 ** (bits - 1);
  const value = (b: Uint8Array, off: number): number => {
    const raw = readUnsigned(b, off, size, be) as number; // a number up to 6 bytes
    return (((raw / 2 ** shift) >>> 0) & mask) >>> 0;
  };
  const signedOf = (u: number) => (signed && u >= half ? u - 2 * half : u);
  switch (fmt) {
    case "dec":
      return (b, off) => signedOf(value(b, off));
    case "hex":
      return (b, off) => `0x${value(b, off).toString(16)}`;
    case "bool":
      return (b, off) => value(b, off) !== 0;
    case "enum": {
      const byValue = new Map<number, string>();
      for (const [n, v] of d.names!) if (!byValue.has(Number(v))) byValue.set(Number(v), n);
      return (b, off) => {
        const v = signedOf(value(b, off));
        return byValue.get(v) ?? v;
      };
    }
    case "flags": {
      const single = d.names!.filter(([, v]) => v > 0n && v <= 0x80000000n && (v & (v - 1n)) === 0n);
      const list = single.map(([n, v]) => [n, Number(v)] as const);
      return (b, off) => {
        let left = value(b, off);
        if (left === 0) return "0";
        let s = "";
        for (const [n, bit] of list) {
          if ((left & bit) !== 0) {
            s += s ? `|${n}` : n;
            left = (left & ~bit) >>> 0;
          }
        }
        return left !== 0 ? `${s ? `${s}|` : ""}0x${left.toString(16)}` : s;
      };
    }
  }
}

export function decodeValue(d: Decoding, b: Uint8Array, off: number): CaptureValue {
  return fieldDecoder(d)(b, off);
}

function decodeWide(d: Extract<Decoding, { k: "int" }>, b: Uint8Array, off: number): CaptureValue {
  const raw = readUnsigned(b, off, d.size, d.be);
  let v = BigInt(raw);
  if (d.shift > 0) v >>= BigInt(d.shift);
  if (d.bits < d.size * 8) v &= (1n << BigInt(d.bits)) - 1n;
  if (d.signed && v >= 1n << BigInt(d.bits - 1)) v -= 1n << BigInt(d.bits);
  switch (d.fmt) {
    case "dec":
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    case "hex":
      return `0x${BigInt.asUintN(d.bits, v).toString(16)}`;
    case "bool":
      return v !== 0n;
    case "enum": {
      const hit = d.names!.find(([, val]) => val === v);
      return hit ? hit[0] : Number(v);
    }
    case "flags":
      return flagsText(d.names!, BigInt.asUintN(d.bits, v));
  }
}

export function flagsText(names: [string, bigint][], v: bigint): string {
  if (v === 0n) return "0";
  const parts: string[] = [];
  let left = v;
  for (const [n, bit] of names) {
    if (bit > 0n && (bit & (bit - 1n)) === 0n && (left & bit) !== 0n) {
      parts.push(n);
      left &= ~bit;
    }
  }
  if (left !== 0n) parts.push(`0x${left.toString(16)}`);
  return parts.join("|");
}

const hex2 = (x: number) => x.toString(16).padStart(2, "0");

export function formatBytes(fmt: BytesFormat, b: Uint8Array): string {
  switch (fmt) {
    case "mac":
      return Array.from(b, hex2).join(":");
    case "ip4":
      return Array.from(b).join(".");
    case "ip6":
      return ip6Text(b);
    case "hex":
      return Array.from(b, hex2).join("");
    case "str": {
      let s = "";
      for (const c of b) {
        if (c === 0) break;
        s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${hex2(c)}`;
      }
      return s;
    }
  }
}

/** RFC 5952 text: lowercase, the longest run (2+) of zero groups as `::`, the first such run on a tie; a
 * mapped IPv4 address in hex groups too, as the Lua decoder prints it (lua-decoder.ts). */
export const ip6Text = (b: Uint8Array): string => ipv6Text(b, 0, false);
