import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AsmError,
  asm,
  decode,
  disasm,
  disasmProgram,
  encode,
  type Insn,
  op,
  resolveLabels,
} from "../../src/asm/index.js";
import { listedJumps } from "./listing.js";

const hex = (insns: Insn[]) => Buffer.from(encode(insns)).toString("hex");

test("encodings match the kernel's instruction format", () => {
  // code, src<<4|dst, off (le16), imm (le32)
  assert.equal(hex([asm.mov64Imm(0, 0)]), "b700000000000000");
  assert.equal(hex([asm.mov64Reg(6, 1)]), "bf16000000000000");
  assert.equal(hex([asm.alu64Imm(asm.ADD, 1, -8)]), "07010000f8ffffff");
  assert.equal(hex([asm.ldxMem(asm.W, 1, 6, 8)]), "6161080000000000");
  assert.equal(hex([asm.stxMem(asm.DW, 10, 1, -8)]), "7b1af8ff00000000");
  assert.equal(hex([asm.stMem(asm.W, 10, -4, 7)]), "620afcff07000000");
  assert.equal(hex([asm.jmpImm(asm.JNE, 0, 0, 3)]), "5500030000000000");
  assert.equal(hex([asm.jmp32Imm(asm.JNE, 1, 0x2a, 1)]), "560101002a000000");
  assert.equal(hex([asm.call(5)]), "8500000005000000");
  assert.equal(hex([asm.exit()]), "9500000000000000");
  assert.equal(hex([asm.ldImm64(1, 0x1122334455667788n)]), "18010000887766550000000044332211");
  assert.equal(hex([asm.ldMapFd(1, 7)]), "18110000070000000000000000000000");
  assert.equal(hex([asm.atomicAdd(asm.DW, 1, 2, 0)]), "db21000000000000");
  assert.equal(hex([asm.endian(asm.TO_BE, 1, 16)]), "dc01000010000000");
});

test("labels resolve forward and backward, LD_IMM64 counting two slots", () => {
  const prog = [
    asm.jmpImm(asm.JEQ, 1, 0, "end"),
    asm.ldImm64(2, 1n << 40n),
    { ...asm.mov64Imm(0, 1), label: "loop" },
    asm.jmpImm(asm.JNE, 0, 0, "loop"),
    { ...asm.exit(), label: "end" },
  ];
  const d = decode(encode(prog));
  assert.equal(d[0]!.off, 4); // slots: 0 jmp, 1-2 lddw, 3 mov, 4 jne, 5 exit
  assert.equal(d[3]!.off, -2);
  assert.throws(() => encode([asm.ja("nowhere")]), /unknown label "nowhere"/);
  assert.throws(
    () =>
      encode([
        { ...asm.exit(), label: "x" },
        { ...asm.exit(), label: "x" },
      ]),
    /defined twice/,
  );
});

test("decode inverts encode, fusing LD_IMM64 pairs", () => {
  const prog = [
    asm.ldImm64(3, -1n),
    asm.alu32Reg(asm.XOR, 1, 2),
    asm.neg64(4),
    asm.jmpReg(asm.JSGT, 1, 2, -1),
  ];
  const back = decode(encode(prog));
  assert.equal(back.length, 4);
  assert.equal(back[0]!.imm64, -1n);
  assert.deepEqual(encode(back), encode(prog));
  assert.throws(() => decode(new Uint8Array(12)), /not a multiple of 8/);
  assert.throws(() => decode(encode([asm.ldImm64(1, 5)]).slice(0, 8)), /cut off/);
});

test("builders check their operands", () => {
  assert.throws(() => asm.mov64Imm(11, 0), AsmError);
  assert.throws(() => asm.mov64Imm(0, 2 ** 32), /does not fit in 32 bits/);
  assert.throws(() => asm.ldxMem(asm.W, 0, 1, 40000), /does not fit in 16 bits/);
  assert.throws(() => asm.ldImm64(0, 1n << 64n), /64 bits/);
  assert.equal(asm.mov64Imm(0, 0xffffffff).imm, -1);
});

test("disassembly uses the verifier's notation", () => {
  const name = (id: number) => (id === 5 ? "bpf_ktime_get_ns" : undefined);
  const cases: [Insn, string][] = [
    [asm.mov64Imm(0, 0), "r0 = 0"],
    [asm.mov32Reg(1, 2), "w1 = w2"],
    [asm.alu64Imm(asm.ADD, 1, -320), "r1 += -320"],
    [asm.alu32Imm(asm.AND, 1, 0xff00), "w1 &= 65280"],
    [asm.alu64Reg(asm.ARSH, 3, 4), "r3 s>>= r4"],
    [asm.neg64(1), "r1 = -r1"],
    [asm.endian(asm.TO_BE, 1, 16), "r1 = be16 r1"],
    [asm.ldxMem(asm.W, 1, 6, 8), "r1 = *(u32 *)(r6 +8)"],
    [asm.stxMem(asm.DW, 10, 1, -8), "*(u64 *)(r10 -8) = r1"],
    [asm.stMem(asm.H, 10, -2, 0), "*(u16 *)(r10 -2) = 0"],
    [asm.atomicAdd(asm.DW, 1, 2, 0), "lock *(u64 *)(r1 +0) += r2"],
    [asm.jmpImm(asm.JNE, 1, 1, 3), "if r1 != 0x1 goto pc+3"],
    [asm.jmp32Reg(asm.JGT, 1, 2, -4), "if w1 > w2 goto pc-4"],
    [asm.jmpImm(asm.JSLT, 2, -1, 0), "if r2 s< 0xffffffff goto pc+0"],
    [asm.ja(2), "goto pc+2"],
    [asm.ldImm64(0, 0x1234), "r0 = 0x1234 ll"],
    [asm.ldMapFd(1, 9), "r1 = map[fd:9]"],
    [asm.call(5), "call bpf_ktime_get_ns#5"],
    [asm.call(999), "call #999"],
    [asm.exit(), "exit"],
    [{ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }, "(bad opcode 0xff)"],
  ];
  for (const [i, text] of cases) assert.equal(disasm(i, name), text);
});

test("program listings: INDEX: HEX16  TEXT, LD_IMM64 on two lines", () => {
  assert.deepEqual(disasmProgram([asm.ldImm64(1, 0x100000002n), asm.exit()]), [
    "0: 1801000002000000  r1 = 0x100000002 ll",
    "1: 0000000001000000",
    "2: 9500000000000000  exit",
  ]);
});

test("listings show the offsets jumps to labels are encoded with, LD_IMM64 pairs counted as two", () => {
  const prog = [
    asm.jmpImm(asm.JEQ, 1, 0, "end"),
    asm.ldImm64(2, 1n << 40n),
    { ...asm.mov64Imm(0, 1), label: "loop" },
    asm.ldMapFd(1, 3),
    asm.jmpReg(asm.JNE, 0, 1, "loop"),
    asm.ja("end"),
    asm.ja(0),
    { ...asm.exit(), label: "end" },
  ];
  const lines = disasmProgram(prog);
  assert.equal(lines[0], "0: 1501080000000000  if r1 == 0x0 goto pc+8");
  assert.equal(lines[6], "6: 5d10fcff00000000  if r0 != r1 goto pc-4");
  assert.equal(lines[7], "7: 0500010000000000  goto pc+1");
  const jumps = listedJumps(lines);
  assert.equal(jumps.length, 4);
  for (const [slot, text, bytes] of jumps) assert.equal(text, bytes, lines[slot]);
  // The input keeps its labels: listing it twice, or encoding it after, gives the same result.
  assert.equal(prog[0]!.target, "end");
  assert.deepEqual(disasmProgram(prog), lines);
  assert.deepEqual(lines.map((l) => l.split(" ")[1]).join(""), Buffer.from(encode(prog)).toString("hex"));
});

test("resolveLabels fills in jump offsets and drops label names", () => {
  const r = resolveLabels([asm.ja("x"), asm.ldImm64(1, 5n), { ...asm.exit(), label: "x" }]);
  assert.deepEqual(r[0], { code: op.JMP | op.JA, dst: 0, src: 0, off: 2, imm: 0 });
  assert.equal(r[2]!.label, undefined);
  assert.throws(() => resolveLabels([asm.ja("nowhere")]), /unknown label "nowhere"/);
});
