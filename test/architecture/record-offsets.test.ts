// The record is read at its offsets only inside src/record/: record.ts defines the 128-byte head, parts/
// what follows it. Elsewhere a record view (named `dv`, as every writer names it) is read through the
// record's accessors or its named offsets (OFF_*), never at a number worked out by hand: such a number
// silently goes wrong when the layout changes (a part added before another, a field moved).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The first argument of each DataView read or write on `dv` whose offset has a number in it, or the
 * record's size (a part's place worked out by hand), as `line: call`. Comments are not code. */
export function rawOffsets(text: string): string[] {
  const bad: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    for (const m of code.matchAll(/\bdv\.(?:get|set)(?:Big)?(?:Uint|Int)(?:8|16|32|64)\(([^,)]*)/g)) {
      const arg = m[1]!;
      if (/(^|[^\w.])\d/.test(arg) || /\bRECORD_SIZE\b/.test(arg)) bad.push(`${i + 1}: ${m[0]}`);
    }
  });
  return bad;
}

/** Files that handle records: those that import src/record/ (the rest read other formats: BTF, ELF...). */
const handlesRecords = (text: string): boolean => /from "(\.\.\/)+record\//.test(text);

test("outside src/record/, no record is read or written at an offset worked out by hand", () => {
  const files = sources(SRC).filter(
    (f) => !relative(SRC, f).startsWith("record/") && handlesRecords(readFileSync(f, "utf8")),
  );
  assert.ok(files.length > 20, `the scan found only ${files.length} files that handle records`);
  const bad = files.flatMap((f) =>
    rawOffsets(readFileSync(f, "utf8")).map((b) => `${relative(SRC, f)}:${b}`),
  );
  assert.deepEqual(bad, [], "read the record through src/record/ (its accessors, OFF_* names, parts/)");
});

test("a raw record offset is reported; named offsets and accessors are not", () => {
  const synthetic = [
    "const cap = dv.getUint16(off + 52, true);",
    "const ifindex = dv.getUint32(off + RECORD_SIZE + DEV_IFINDEX, true);",
    "dv.setBigUint64(o + 40, e.parent, true);",
    "const hi = dv.getUint32(off + OFF_TSTAMP + 4, true);",
  ].join("\n");
  assert.deepEqual(rawOffsets(synthetic), [
    "1: dv.getUint16(off + 52",
    "2: dv.getUint32(off + RECORD_SIZE + DEV_IFINDEX",
    "3: dv.setBigUint64(o + 40",
    "4: dv.getUint32(off + OFF_TSTAMP + 4",
  ]);
  assert.deepEqual(
    rawOffsets(
      [
        "const cpu = dv.getUint32(off + OFF_CPU, true);",
        "const lo = dv.getUint32(off + OFF_TSTAMP_HI, true);",
        "// dv.getUint32(off + 28, true) in a comment",
        "const v = other.getUint32(p + 4, true);",
      ].join("\n"),
    ),
    [],
  );
});
