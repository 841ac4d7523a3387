import assert from "node:assert/strict";
import { test } from "node:test";
import { parseKprobeBlacklist, readKprobeBlacklist } from "../../src/symbols/index.js";

test("kprobe blacklist: address ranges with names (and modules) parse to names", () => {
  const text = [
    "0xffffffff81001000-0xffffffff81001020\tasm_exc_int3",
    "0xffffffff8100a000-0xffffffff8100a0c0\tkprobe_handler",
    "0xffffffffc0a01000-0xffffffffc0a01040\tsome_mod_fn [some_mod]",
    "garbage",
    "",
  ].join("\n");
  assert.deepEqual([...parseKprobeBlacklist(text)], ["asm_exc_int3", "kprobe_handler", "some_mod_fn"]);
  assert.equal(readKprobeBlacklist("/nonexistent/blacklist"), null);
});
