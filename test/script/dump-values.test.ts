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
