import assert from "node:assert/strict";
import { test } from "node:test";
import { keyOrder, keyRanks } from "../../src/script/key-order.js";

test("keys written by name: constructor fields, t.name = and t['name'] =, first appearance wins", () => {
  const src = `
local t = { zeta = 1, alpha = 2; ["with space"] = 3, [1] = 4, "positional" }
t.added = 5
t["quoted"] = 6
t.alpha = 7
x.y.deep = 8
local u = { nested = { inner = 1 }, after = 2 }`;
  assert.deepEqual(keyOrder(src).order, [
    "zeta",
    "alpha",
    "with space",
    "added",
    "quoted",
    "deep",
    "nested",
    "inner",
    "after",
  ]);
});

test("not keys: locals and globals assigned, comparisons, function bodies inside a constructor", () => {
  const src = `
local len, gso_size = string.unpack("<I4I2", d)
count = 1
if a.b == c then end
local f = { run = function() local p, q = 1, 2; r = 3 end, last = t.x }
g(a, b)`;
  assert.deepEqual(keyOrder(src).order, ["run", "last"]);
});

test("comments, strings and long brackets are skipped; a shebang line is ignored", () => {
  const src = `#!/usr/bin/lua { fake = 1 }
-- { commented = 1 }
--[==[ { long_comment = 1 } ]==]
local s = "{ in_string = 1 }" .. '{ single = 1 }' .. [[ { long_string = 1 } ]]
return { real = 1, ['esc\\n'] = 2, ok = 3 }`;
  assert.deepEqual(keyOrder(src).order, ["real", "ok"]);
});

test("blocks: while/for/do/if/repeat close where Lua closes them", () => {
  const src = `
local t = {
  a = (function()
    for i = 1, 2 do if i then local x = { inner = i } end end
    while false do end
    repeat local z = 1 until true
    local w, v = 1, 2
    return 1
  end)(),
  b = 2,
}`;
  assert.deepEqual(keyOrder(src).order, ["a", "inner", "b"]);
});

test("constructors with two or more named keys are kept in their written order", () => {
  const src = `
local a = { zeta = 1, alpha = 2, zeta = 3 }
local b = { alpha = 1, ["x y"] = 2, 5, [k] = 6, mid = 3 }
local c = { solo = 1 }
local d = { outer = { p = 1, q = 2 }, last = 1 }`;
  assert.deepEqual(keyOrder(src).constructors, [
    ["zeta", "alpha"],
    ["alpha", "x y", "mid"],
    ["p", "q"],
    ["outer", "last"],
  ]);
});

test("keyRanks: ranks by first appearance; a shape only where a constructor's order differs", () => {
  const r = keyRanks(`
local a = { omega = 1, alpha = 2 }
local b = { alpha = 1, omega = 2 }
local c = { kappa = 1, omega = 2 }
local d = { alpha = 1, beta = 2 }`);
  assert.deepEqual(r.ranks, [
    ["omega", 1],
    ["alpha", 2],
    ["kappa", 3],
    ["beta", 4],
  ]);
  // a's key set is already in rank order (b, with the same set, comes second and is not used); c's is not.
  assert.deepEqual(r.shapes, [["omega\nkappa", "kappa\nomega"]]);
});
