import assert from "node:assert/strict";
import { test } from "node:test";
import { Script, ScriptError } from "../../src/script/index.js";
import { ENV, script, scriptPath } from "./support.js";

test("hooks are optional and reported", () => {
  const s = script("function dump(d) return 'x' end");
  assert.deepEqual(s.hooks, { init: false, emit: false, dump: true, fini: false });
  assert.equal(s.emit().length, 0);
  s.init();
  s.fini();
  s.close();
});

test("init runs before emit, fini after; state persists in the script", () => {
  const s = script(`
    local n = 0
    function init() n = 10 end
    function emit() n = n + 1 return BPF.MOV64_IMM(BPF.R0, n) end
    function dump(d) return tostring(n) end
    function fini() n = -1 end`);
  s.init();
  assert.equal(Buffer.from(s.emit()).toString("hex"), "b70000000b000000");
  assert.equal(s.dump(new Uint8Array(64)), "11");
  s.fini();
  assert.equal(s.dump(new Uint8Array(64)), "-1");
  s.close();
});

test("dump gets the 64 bytes as a binary string, 0x00 and 0xff intact, 64-bit integers exact", () => {
  const s = script(`function dump(d)
    local p = string.unpack("<I8", d, 9)
    return string.format("%d %d %d %d 0x%x", #d, d:byte(1), d:byte(2), d:byte(64), p)
  end`);
  const data = new Uint8Array(64);
  data[0] = 0x00;
  data[1] = 0xff;
  data[63] = 0x80;
  new DataView(data.buffer).setBigUint64(8, 0xffff888012345678n, true);
  assert.equal(s.dump(data), "64 0 255 128 0xffff888012345678");
  s.close();
});

test("emit's bytes cross unchanged (every byte value)", () => {
  const s = script(
    "function emit() local t = {} for i = 0, 255 do t[#t + 1] = string.char(i) end return table.concat(t) end",
  );
  const b = s.emit();
  assert.equal(b.length, 256);
  assert.ok(b.every((v, i) => v === i));
  s.close();
});

test("dump may return a table: typed values, keys sorted", () => {
  const s = script("function dump(d) return { len = 142, dev = 'lo', ok = true, ratio = 0.5 } end");
  assert.deepEqual(s.dump(new Uint8Array(64)), { dev: "lo", len: 142, ok: true, ratio: 0.5 });
  s.close();
});

test("ipft.offsetof/sizeof/typeof answer from BTF; errors become Lua errors with the name", () => {
  const s = script(`function dump(d)
    return string.format("%d %d %s", ipft.offsetof("sk_buff", "mark"), ipft.sizeof(ipft.typeof("sk_buff", "mark")), ipft.typeof("sk_buff", "mark"))
  end`);
  assert.equal(s.dump(new Uint8Array(64)), "164 4 __u32");
  s.close();
  const bad = script(`function emit() local off = ipft.offsetof("sk_buff", "marc") return off end`);
  assert.throws(
    () => bad.emit(),
    (e: unknown) =>
      e instanceof ScriptError && /\.lua:1: struct sk_buff has no member "marc"/.test(e.message),
  );
  bad.close();
});

test("errors in each hook carry file:line and a traceback", () => {
  for (const hook of ["init", "emit", "dump", "fini"] as const) {
    const s = script(`\n\nfunction ${hook}() error("broken ${hook}") end`);
    assert.throws(
      () => (hook === "dump" ? s.dump(new Uint8Array(64)) : s[hook]()),
      (e: unknown) =>
        e instanceof ScriptError &&
        new RegExp(`^${hook}\\(\\) failed: .*\\.lua:3: broken ${hook}$`).test(e.message) &&
        /stack traceback/.test(e.detail ?? ""),
    );
    s.close();
  }
});

test("emit must return a string", () => {
  for (const [ret, type] of [
    ["nil", "nil"],
    ["42", "number"],
    ["{}", "table"],
  ]) {
    const s = script(`function emit() return ${ret} end`);
    assert.throws(
      () => s.emit(),
      new RegExp(`emit\\(\\) must return a string of eBPF bytecode, got ${type}`),
    );
    s.close();
  }
  const empty = script("function emit() return '' end");
  assert.equal(empty.emit().length, 0);
  empty.close();
});

test("missing files and syntax errors are one line", () => {
  assert.throws(
    () => Script.load("/nonexistent/x.lua", ENV),
    /^ScriptError: script \/nonexistent\/x.lua does not exist$|does not exist/,
  );
  const p = scriptPath("function emit(\n  return 1\nend");
  assert.throws(
    () => Script.load(p, ENV),
    (e: unknown) => e instanceof ScriptError && e.message.includes(`${p}:2:`),
  );
  const r = scriptPath("error('at load')");
  assert.throws(() => Script.load(r, ENV), /\.lua:1: at load/);
});
