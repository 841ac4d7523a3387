import assert from "node:assert/strict";
import { test } from "node:test";
import { Script, ScriptError } from "../../src/script/index.js";
import { tempDir } from "../support/temp-dir.js";
import { ENV, emitted, script, scriptPath } from "./support.js";

test("a directory is not a script", () => {
  const d = tempDir("ipft-dir");
  assert.throws(
    () => Script.load(d, ENV),
    (e: unknown) => e instanceof ScriptError && e.message === `script ${d} is a directory`,
  );
});

test("a run-time error while loading names file:line and carries a traceback", () => {
  const p = scriptPath("local function f() error('no luck') end\n\nf()");
  assert.throws(
    () => Script.load(p, ENV),
    (e: unknown) =>
      e instanceof ScriptError &&
      e.message === `script ${p}:1: no luck` &&
      /stack traceback:[\s\S]*in local 'f'/.test(e.detail ?? ""),
  );
});

test("a syntax error is one line with file:line and is a ScriptError", () => {
  const p = scriptPath("function dump(d)\n  return (\nend");
  assert.throws(
    () => Script.load(p, ENV),
    (e: unknown) =>
      e instanceof ScriptError &&
      e.name === "ScriptError" &&
      !e.message.includes("\n") &&
      e.message.includes(`${p}:3:`),
  );
});

test("more out-of-range operands, each naming the macro and the value", () => {
  const bad: [string, RegExp][] = [
    [
      "BPF.ALU64_IMM(BPF.ADD, BPF.R1, -0x80000001)",
      /BPF\.ALU64_IMM: immediate -2147483649 does not fit in 32 bits/,
    ],
    ["BPF.JMP_IMM(BPF.JEQ, BPF.R1, 0, -32769)", /BPF\.JMP_IMM: offset -32769 does not fit in 16 bits/],
    ["BPF.STX_MEM(BPF.DW, BPF.R10, -1, -8)", /BPF\.STX_MEM: src register -1 is not R0\.\.R10/],
    ["BPF.LD_IMM64(BPF.R1, 0.5)", /BPF\.LD_IMM64: immediate must be an integer, got 0\.5/],
    ["BPF.CALL_INSN(nil)", /BPF\.CALL_INSN: immediate must be an integer, got nil/],
    ["BPF.RAW_INSN(0x100, 0, 0, 0, 0)", /BPF\.RAW_INSN: opcode 256 does not fit in 8 bits/],
    ["BPF.emit({ BPF.EXIT_INSN(), 5 })", /BPF\.emit: element 2 is a number, not an instruction string/],
  ];
  for (const [expr, re] of bad) assert.throws(() => emitted(expr), re, expr);
});

test("ipft queries with a missing argument are Lua errors at the caller's line", () => {
  const s = script("function emit()\n  local off = ipft.offsetof('sk_buff')\n  return off\nend");
  assert.throws(
    () => s.emit(),
    (e: unknown) =>
      e instanceof ScriptError && /\.lua:2: ipft\.offsetof: member name must be a string/.test(e.message),
  );
  s.close();
  const t = script("function emit() local n = ipft.sizeof('no_such_type') return n end");
  assert.throws(() => t.emit(), /\.lua:1: BTF has no type named "no_such_type"/);
  t.close();
});

test("a closed script can be closed again", () => {
  const s = script("function dump(d) return 'x' end");
  s.close();
  s.close();
});
