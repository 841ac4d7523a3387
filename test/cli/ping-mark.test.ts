import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

// iputils ping parses -m in decimal only: `ping -m 0x2a` fails with "invalid argument: '0x2a'".
test("the no-packet hint and the docs show ping -m with a decimal mark, never a hex one", () => {
  const files = ["README.md", ...readdirSync(`${ROOT}docs`).map((f) => `docs/${f}`), "src/trace/session.ts"];
  let examples = 0;
  for (const f of files) {
    const text = readFileSync(`${ROOT}${f}`, "utf8");
    for (const m of text.matchAll(/ping (?:-c \d+ )?-m ([^\s`):]+)/g)) {
      examples++;
      assert.match(m[1]!, /^(\d+|\$\{opts\.mark\})$/, `${f}: "${m[0]}" is not a decimal mark`);
    }
  }
  // The hint prints the mark it looked for in decimal for ping (opts.mark, a number, not its hex text).
  const session = readFileSync(`${ROOT}src/trace/session.ts`, "utf8");
  assert.match(session, /ping -m \$\{opts\.mark\}: ping takes it in decimal/);
  assert.ok(examples >= 3, `only ${examples} ping -m examples found`);
});
