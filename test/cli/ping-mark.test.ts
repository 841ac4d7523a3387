import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { noPacketHint } from "../../src/session/run.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

// iputils ping parses -m in decimal only: `ping -m 0x2a` fails with "invalid argument: '0x2a'".
test("the no-packet hint and the docs show ping -m with a decimal mark, never a hex one", () => {
  const files = ["README.md", ...readdirSync(`${ROOT}docs`).map((f) => `docs/${f}`)];
  let examples = 0;
  for (const f of files) {
    const text = readFileSync(`${ROOT}${f}`, "utf8");
    for (const m of text.matchAll(/ping (?:-c \d+ )?-m ([^\s`):]+)/g)) {
      examples++;
      assert.match(m[1]!, /^\d+$/, `${f}: "${m[0]}" is not a decimal mark`);
    }
  }
  // The hint names the mark in hex for ipft and in decimal for ping.
  const hint = noPacketHint({ mark: 0x2a, mask: 0xffffffff });
  assert.match(hint, /^no packet with mark 0x2a was seen/);
  assert.match(hint, /ping -m 42: ping takes it in decimal/);
  assert.doesNotMatch(hint, /ping -m 0x/);
  assert.ok(examples >= 3, `only ${examples} ping -m examples found`);
});
