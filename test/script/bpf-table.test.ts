import assert from "node:assert/strict";
import { test } from "node:test";
import { emitted, insn, script } from "./support.js";

test("constants have linux/bpf.h values", () => {
  const want: Record<string, number> = {
    LD: 0x00,
    LDX: 0x01,
    ST: 0x02,
    STX: 0x03,
    ALU: 0x04,
    JMP: 0x05,
    RET: 0x06,
    MISC: 0x07,
    JMP32: 0x06,
    ALU64: 0x07,
    W: 0x00,
    H: 0x08,
    B: 0x10,
    DW: 0x18,
    XADD: 0xc0,
    IMM: 0x00,
    ABS: 0x20,
    IND: 0x40,
    MEM: 0x60,
    LEN: 0x80,
    MSH: 0xa0,
    ADD: 0x00,
    SUB: 0x10,
    MUL: 0x20,
    DIV: 0x30,
    OR: 0x40,
    AND: 0x50,
    LSH: 0x60,
    RSH: 0x70,
    NEG: 0x80,
    MOD: 0x90,
    XOR: 0xa0,
    MOV: 0xb0,
    ARSH: 0xc0,
    JA: 0x00,
    JEQ: 0x10,
    JGT: 0x20,
    JGE: 0x30,
    JSET: 0x40,
    JNE: 0x50,
    JLT: 0xa0,
    JLE: 0xb0,
    JSGT: 0x60,
    JSGE: 0x70,
    JSLT: 0xc0,
    JSLE: 0xd0,
    CALL: 0x80,
    EXIT: 0x90,
    END: 0xd0,
    TO_LE: 0x00,
    TO_BE: 0x08,
    FROM_LE: 0x00,
    FROM_BE: 0x08,
    K: 0x00,
    X: 0x08,
  };
  for (let r = 0; r <= 10; r++) want[`R${r}`] = r;
  const names = Object.keys(want);
  const s = script(
    `function dump() return table.concat({ ${names.map((n) => `BPF.${n}`).join(", ")} }, ",") end`,
  );
  assert.deepEqual(
    String(s.dump(new Uint8Array(64)))
      .split(",")
      .map(Number),
    names.map((n) => want[n]),
  );
  s.close();
});

test("extractors split an opcode into its fields", () => {
  const s = script(
    "function dump() return string.format('%d %d %d %d %d', BPF.CLASS(0x7b), BPF.SIZE(0x7b), BPF.MODE(0x7b), BPF.OP(0xdc), BPF.SRC(0xdc)) end",
  );
  assert.equal(s.dump(new Uint8Array(64)), `${0x03} ${0x18} ${0x60} ${0xd0} ${0x08}`);
  s.close();
});

test("every macro encodes like the kernel's instruction format", () => {
  const cases: [string, string][] = [
    ["BPF.ALU64_REG(BPF.ADD, BPF.R1, BPF.R2)", insn(0x0f, 1, 2, 0, 0)],
    ["BPF.ALU32_REG(BPF.XOR, BPF.R3, BPF.R4)", insn(0xac, 3, 4, 0, 0)],
    ["BPF.ALU64_IMM(BPF.ADD, BPF.R1, -8)", insn(0x07, 1, 0, 0, -8)],
    ["BPF.ALU32_IMM(BPF.AND, BPF.R1, 0xffffffff)", insn(0x54, 1, 0, 0, -1)],
    ["BPF.ENDIAN(BPF.TO_BE, BPF.R1, 16)", insn(0xdc, 1, 0, 0, 16)],
    ["BPF.MOV64_REG(BPF.R6, BPF.R1)", insn(0xbf, 6, 1, 0, 0)],
    ["BPF.MOV32_REG(BPF.R6, BPF.R1)", insn(0xbc, 6, 1, 0, 0)],
    ["BPF.MOV64_IMM(BPF.R0, 42)", insn(0xb7, 0, 0, 0, 42)],
    ["BPF.MOV_IMM(BPF.R0, 42)", insn(0xb4, 0, 0, 0, 42)],
    [
      "BPF.LD_IMM64(BPF.R1, 0x1122334455667788)",
      insn(0x18, 1, 0, 0, 0x55667788) + insn(0, 0, 0, 0, 0x11223344),
    ],
    ["BPF.LD_IMM64(BPF.R2, -1)", insn(0x18, 2, 0, 0, -1) + insn(0, 0, 0, 0, -1)],
    ["BPF.LDX_MEM(BPF.W, BPF.R1, BPF.R6, 8)", insn(0x61, 1, 6, 8, 0)],
    ["BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R1, -8)", insn(0x7b, 10, 1, -8, 0)],
    ["BPF.STX_XADD(BPF.DW, BPF.R1, BPF.R2, 0)", insn(0xdb, 1, 2, 0, 0)],
    ["BPF.ST_MEM(BPF.H, BPF.R10, -2, 7)", insn(0x6a, 10, 0, -2, 7)],
    ["BPF.JMP_REG(BPF.JGT, BPF.R1, BPF.R2, 3)", insn(0x2d, 1, 2, 3, 0)],
    ["BPF.JMP_IMM(BPF.JNE, BPF.R0, 0, -4)", insn(0x55, 0, 0, -4, 0)],
    ["BPF.JMP32_REG(BPF.JLT, BPF.R1, BPF.R2, 1)", insn(0xae, 1, 2, 1, 0)],
    ["BPF.JMP32_IMM(BPF.JEQ, BPF.R1, 0x2a, 2)", insn(0x16, 1, 0, 2, 0x2a)],
    ["BPF.JMP_A(5)", insn(0x05, 0, 0, 5, 0)],
    ["BPF.CALL_INSN(BPF.FUNC.probe_read)", insn(0x85, 0, 0, 0, 4)],
    ["BPF.CALL_INSN(BPF.FUNC.ktime_getns)", insn(0x85, 0, 0, 0, 5)],
    ["BPF.EXIT_INSN()", insn(0x95, 0, 0, 0, 0)],
    ["BPF.RAW_INSN(0xbf, 1, 2, 3, 4)", insn(0xbf, 1, 2, 3, 4)],
    [
      "BPF.emit({ BPF.MOV64_IMM(BPF.R0, 1), BPF.EXIT_INSN() })",
      insn(0xb7, 0, 0, 0, 1) + insn(0x95, 0, 0, 0, 0),
    ],
  ];
  for (const [expr, hex] of cases) assert.equal(emitted(expr), hex, expr);
});

test("BPF.FUNC has the kernel's helpers and upstream's ktime_getns spelling", () => {
  const s = script(
    "function dump() return string.format('%d %d %d', BPF.FUNC.probe_read_kernel, BPF.FUNC.ktime_get_ns, BPF.FUNC.ktime_getns) end",
  );
  assert.equal(s.dump(new Uint8Array(64)), "113 5 5");
  s.close();
});

test("out-of-range operands raise a Lua error naming the macro and the value", () => {
  const bad: [string, RegExp][] = [
    ["BPF.MOV64_IMM(BPF.R0, 0x100000000)", /BPF\.MOV64_IMM: immediate 4294967296 does not fit in 32 bits/],
    ["BPF.LDX_MEM(BPF.W, BPF.R1, BPF.R2, 40000)", /BPF\.LDX_MEM: offset 40000 does not fit in 16 bits/],
    ["BPF.MOV64_REG(11, BPF.R1)", /BPF\.MOV64_REG: dst register 11 is not R0\.\.R10/],
    ["BPF.MOV64_IMM(BPF.R0, 1.5)", /BPF\.MOV64_IMM: immediate must be an integer/],
  ];
  for (const [expr, re] of bad) {
    assert.throws(
      () => emitted(expr),
      (e: Error) => re.test(e.message) && /\.lua:1: BPF\./.test(e.message),
      expr,
    );
  }
});
