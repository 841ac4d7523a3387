import assert from "node:assert/strict";
import { test } from "node:test";
import { ScriptError } from "../../src/script/index.js";
import { script } from "./support.js";

test("dump's table keeps integer types exact, 64-bit kernel pointers included", () => {
  const s = script(`function dump(d)
    local p = string.unpack("<I8", d)
    return { skb = p, big = math.maxinteger, small = 7, neg = -3, ratio = 0.25, on = false, name = "eth0", [5] = "five", sub = {} }
  end`);
  const data = new Uint8Array(64);
  new DataView(data.buffer).setBigUint64(0, 0xffff888012345678n, true);
  const r = s.dump(data) as Record<string, string | number | boolean>;
  // Lua integers are signed 64-bit: a kernel pointer is a negative integer, still exact as a number;
  // beyond 2^53 the value comes as its exact decimal text.
  assert.equal(r.skb, Number(BigInt.asIntN(64, 0xffff888012345678n)));
  assert.equal(r.big, "9223372036854775807");
  assert.equal(r.small, 7);
  assert.equal(r.neg, -3);
  assert.equal(r.ratio, 0.25);
  assert.equal(r.on, false);
  assert.equal(r.name, "eth0");
  assert.equal(r["5"], "five");
  assert.match(String(r.sub), /^table: 0x/);
  assert.equal(Object.keys(r).length, 9);
  s.close();
});

test("dump's string result keeps 0x00 and 0xff input bytes; the record is 64 bytes", () => {
  const s = script(`function dump(d)
    local n00, nff = 0, 0
    for i = 1, #d do if d:byte(i) == 0 then n00 = n00 + 1 elseif d:byte(i) == 255 then nff = nff + 1 end end
    return string.format("%d %d %d %s", #d, n00, nff, (d:sub(1, 4) == "\\0\\255\\0\\255") and "same" or "changed")
  end`);
  const data = new Uint8Array(64);
  for (let i = 0; i < 64; i += 2) data[i + 1] = 0xff;
  assert.equal(s.dump(data), "64 32 32 same");
  s.close();
});

test("dump returning nil gives empty text; a number is an error", () => {
  const nil = script("function dump(d) end");
  assert.equal(nil.dump(new Uint8Array(64)), "");
  nil.close();
  const num = script("function dump(d) return 42 end");
  assert.throws(
    () => num.dump(new Uint8Array(64)),
    (e: unknown) =>
      e instanceof ScriptError && /dump\(\) must return a string or a table, got number/.test(e.message),
  );
  num.close();
  const none = script("function emit() return '' end");
  assert.equal(none.dump(new Uint8Array(64)), "");
  assert.deepEqual(none.dumpFormattedMany(new Uint8Array(128), "text"), ["", ""]);
  none.close();
});

test("formatted dumps: text and json fragments, one crossing for many records", () => {
  const s = script(
    `function dump(d) local n = string.unpack("<I4", d) if n == 3 then error("bad record") end return { n = n } end`,
  );
  const recs = new Uint8Array(64 * 3);
  const dv = new DataView(recs.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(64, 2, true);
  dv.setUint32(128, 3, true);
  const text = s.dumpFormattedMany(recs, "text");
  assert.equal(text[0], "( n: 1 )");
  assert.equal(text[1], "( n: 2 )");
  assert.ok(text[2] instanceof ScriptError && /\.lua:1: bad record/.test(text[2].message));
  assert.equal(s.dumpFormatted(recs.subarray(64, 128), "json"), ',"n":2');
  s.close();
});

// Ten keys: Lua's pairs() order follows string hashes (seeded per state), almost never this one.
const TEN = ["zeta", "alpha", "mid", "beta", "omega", "gamma", "delta", "kappa", "iota", "eta"];

test("dump's table keys come in the order the script writes them, in text, json and as a value", () => {
  const fields = TEN.map((k, i) => `${k} = ${i}`).join(", ");
  const s = script(`function dump(d)
    local t = { ${fields} }
    if d:byte(1) == 1 then
      local keys = {}
      for k in pairs(t) do keys[#keys + 1] = k end
      return table.concat(keys, " ")
    end
    return t
  end`);
  const raw = new Uint8Array(64);
  raw[0] = 1;
  // The test means something only if Lua's own order differs from the written one.
  assert.notEqual(s.dump(raw), TEN.join(" "));
  const recs = new Uint8Array(64 * 3);
  const want = `( ${TEN.map((k, i) => `${k}: ${i}`).join(" ")} )`;
  assert.deepEqual(s.dumpFormattedMany(recs, "text"), [want, want, want]);
  assert.equal(s.dumpFormatted(recs.subarray(0, 64), "text"), want);
  assert.equal(s.dumpFormatted(recs.subarray(0, 64), "json"), TEN.map((k, i) => `,"${k}":${i}`).join(""));
  assert.deepEqual(Object.keys(s.dump(recs.subarray(0, 64)) as object), TEN);
  s.close();
});

test("dump's table filled by assignment; computed keys after the named ones, numbers first", () => {
  const s = script(`function dump(d)
    local t = {}
    t.zeta = 1
    t["alpha key"] = 2
    t.mid = 3
    for _, k in ipairs({ "yy", "xx" }) do t[k] = 0 end
    t[3], t[1] = "c", "a"
    ${TEN.slice(3)
      .map((k) => `t.${k} = 9`)
      .join("\n    ")}
    return t
  end`);
  const want = [
    "zeta: 1",
    "alpha key: 2",
    "mid: 3",
    ...TEN.slice(3).map((k) => `${k}: 9`),
    "1: a",
    "3: c",
    "xx: 0",
    "yy: 0",
  ];
  assert.equal(s.dumpFormatted(new Uint8Array(64), "text"), `( ${want.join(" ")} )`);
  s.close();
});

test("dump's tables of changing shapes each keep their order; a __pairs table keeps its own", () => {
  const s = script(`local order = { "b", "a", "c" }
  local mt = { __pairs = function(t)
    local i = 0
    return function() i = i + 1; local k = order[i]; if k then return k, t[k] end end, t, nil
  end }
  function dump(d)
    local n = d:byte(1)
    if n == 0 then return { omega = 1, alpha = 2, kappa = 3, beta = 4 } end
    if n == 1 then return { kappa = 5, omega = 6 } end
    if n == 2 then return { omega = 7, alpha = 8, kappa = 9, beta = 10, extra = 11 } end
    return setmetatable({ a = 1, b = 2, c = 3 }, mt)
  end`);
  const recs = new Uint8Array(64 * 6);
  for (const [i, n] of [0, 1, 0, 2, 3, 0].entries()) recs[i * 64] = n;
  const full = "( omega: 1 alpha: 2 kappa: 3 beta: 4 )";
  assert.deepEqual(s.dumpFormattedMany(recs, "text"), [
    full,
    "( kappa: 5 omega: 6 )", // its own constructor's order, though omega is written first in the script
    full,
    "( omega: 7 alpha: 8 kappa: 9 beta: 10 extra: 11 )",
    "( b: 2 a: 1 c: 3 )",
    full,
  ]);
  assert.deepEqual(s.dumpFormattedMany(recs.subarray(64 * 3, 64 * 5), "json"), [
    ',"omega":7,"alpha":8,"kappa":9,"beta":10,"extra":11',
    ',"b":2,"a":1,"c":3',
  ]);
  s.close();
});

test("a value whose __tostring fails costs only its own record, not the batch", () => {
  const s = script(`local bad = setmetatable({}, { __tostring = function() error("no text for this") end })
  function dump(d) if d:byte(1) == 1 then return { v = bad } end return { v = 1 } end`);
  const recs = new Uint8Array(64 * 3);
  recs[64] = 1;
  for (const format of ["text", "json"] as const) {
    const r = s.dumpFormattedMany(recs, format);
    assert.equal(r[0], format === "text" ? "( v: 1 )" : ',"v":1');
    assert.ok(r[1] instanceof ScriptError && /:1: no text for this/.test(r[1].message), String(r[1]));
    assert.equal(r[2], r[0]);
  }
  assert.throws(() => s.dump(recs.subarray(64, 128)), /dump\(\) failed: .*no text for this/);
  s.close();
});
