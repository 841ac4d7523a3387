// --examples and --wireshark-plugin: the CLI names the example scripts and the Wireshark plugin of the checkout it runs from.
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

test("--wireshark-plugin prints the plugin's absolute path alone on stdout, how to install it on stderr", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "ipft.js"), "--wireshark-plugin"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${join(ROOT, "wireshark", "ipft.lua")}\n`);
  assert.match(r.stdout, /^\//);
  assert.ok(existsSync(r.stdout.trim()));
  assert.match(r.stderr, /~\/\.local\/lib\/wireshark\/plugins/);
  assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
});
