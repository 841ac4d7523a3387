// --examples: the CLI names the example scripts' folder of the checkout it runs from.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../support/run.js";

test("--examples prints the examples folder of this checkout", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "ipft.js"), "--examples"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(r.stdout.trim(), "gso.lua")), r.stdout);
});
