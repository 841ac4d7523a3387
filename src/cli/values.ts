// The option values' parsers: numbers, sizes, regular expressions, a choice among names. A bad value is a
// UsageError naming the flag.
import { UsageError } from "../core/errors.js";

export function parseU32(flag: string, v: string, what: string): number {
  const s = v.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(s)) {
    throw new UsageError(`${flag}: "${v}" is not a number (use decimal or 0x hex)`);
  }
  const n = BigInt(s);
  if (n > 0xffffffffn) throw new UsageError(`${flag}: ${v} does not fit in 32 bits (${what} is a u32)`);
  return Number(n);
}

export function parseCount(flag: string, v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) <= 0)
    throw new UsageError(`${flag}: "${v}" is not a positive whole number`);
  return Number(v);
}

/** Sizes like 4096, 64k, 8M, 1G. */
export function parseSize(flag: string, v: string): number {
  const m = /^([0-9]+)([kKmMgG]?)i?[bB]?$/.exec(v);
  if (!m) throw new UsageError(`${flag}: "${v}" is not a size (examples: 65536, 256k, 8M)`);
  const mult = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}

export function parseRegex(flag: string, v: string): RegExp {
  try {
    return new RegExp(v);
  } catch (e) {
    throw new UsageError(
      `${flag}: invalid regular expression "${v}": ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`,
    );
  }
}

export function oneOf<T extends string>(flag: string, v: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(v)) {
    throw new UsageError(`${flag}: unknown value "${v}" (choose one of: ${values.join(", ")})`);
  }
  return v as T;
}
