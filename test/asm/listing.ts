// Reads program listings (disasmProgram, --gen program) back, for tests.
import { op } from "../../src/asm/index.js";

/** [slot, offset in the text, offset in the bytes] of each `goto pc±N` line of a listing. */
export function listedJumps(lines: string[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const l of lines) {
    const m = /^(\d+): ([0-9a-f]{16}) {2}.*goto pc([+-]\d+)/.exec(l);
    if (!m) continue;
    const b = Buffer.from(m[2]!, "hex");
    const jmp32Ja = b[0] === (op.JMP32 | op.JA);
    out.push([Number(m[1]), Number(m[3]), jmp32Ja ? b.readInt32LE(4) : b.readInt16LE(2)]);
  }
  return out;
}

/** Slots holding the first half of a 64-bit immediate load. */
export function ldImm64Slots(lines: string[]): number[] {
  return lines.filter((l) => /^\d+: 18[0-9a-f]{14} {2}/.test(l)).map((l) => Number.parseInt(l, 10));
}

/** Checks every jump of a listing: the offset shown is the one encoded, and it lands on an instruction
 * (or the end). Returns how many jumps pass over a 64-bit immediate load. */
export function checkListedJumps(lines: string[], fail: (why: string) => never): number {
  const wide = ldImm64Slots(lines);
  const starts = new Set(
    lines.filter((l) => /^\d+: [0-9a-f]{16} {2}/.test(l)).map((l) => Number.parseInt(l, 10)),
  );
  let over = 0;
  const jumps = listedJumps(lines);
  if (jumps.length === 0) fail("no jumps in the listing");
  for (const [slot, shown, encoded] of jumps) {
    if (shown !== encoded)
      fail(`${lines[slot]}: shows pc${shown >= 0 ? "+" : ""}${shown}, encoded ${encoded}`);
    const to = slot + 1 + encoded;
    if (to !== lines.length && !starts.has(to))
      fail(`${lines[slot]}: lands on slot ${to}, not an instruction`);
    const [lo, hi] = to > slot ? [slot, to] : [to, slot];
    if (wide.some((w) => w > lo && w < hi)) over++;
  }
  return over;
}
