// A duration as the text outputs print it: the largest unit (ns, us, ms, s) in which it is at least 1, with
// three decimals below it (truncated, so `+1.999us` never reads as `+2.000us`), nanoseconds as a whole
// number: `+0ns`, `+850ns`, `+12.345us`, `+1.500ms`, `+2.000s`. Under a second it is at most 10 characters
// (`+999.999ms`), so a column of them lines up.

/** `ns` (a whole number of nanoseconds) as `+12.345us`; `sign` false drops the `+` (totals). */
export function elapsedText(ns: number, sign = true): string {
  const neg = ns < 0;
  const a = Math.abs(ns);
  const head = neg ? "-" : sign ? "+" : "";
  if (a < 1e3) return `${head}${a}ns`;
  const [div, unit] = a < 1e6 ? [1e3, "us"] : a < 1e9 ? [1e6, "ms"] : [1e9, "s"];
  const whole = Math.floor(a / div);
  const frac = Math.floor(((a - whole * div) * 1000) / div);
  return `${head}${whole}.${String(frac).padStart(3, "0")}${unit}`;
}

/** `hi * 2^32 + lo` minus `hi0 * 2^32 + lo0` in nanoseconds (exact below 2^53 ns, 104 days). */
export const diffOfHalves = (lo: number, hi: number, lo0: number, hi0: number): number =>
  (hi - hi0) * 0x100000000 + (lo - lo0);
