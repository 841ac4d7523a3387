import assert from "node:assert/strict";
import { test } from "node:test";
import { asm, encode, type Insn } from "../../src/asm/index.js";
import { AbiViolation, assertModule, checkModule } from "../../src/program/module-abi.js";

const R = { r0: 0, r1: 1, r2: 2, r3: 3, r6: 6, r7: 7, r10: 10 };
const rules = (insns: Insn[] | Uint8Array, opts = {}) =>
  checkModule(insns instanceof Uint8Array ? insns : encode(insns), opts).map((v) => `${v.index}:${v.rule}`);

test("an empty module and plain register work pass", () => {
  assert.deepEqual(rules([]), []);
  assert.deepEqual(rules([asm.mov64Imm(0, 1), asm.alu64Reg(asm.ADD, 2, 3)]), []);
});

test("the manual's emit_member_read idiom passes (R1 data, R3 skb, probe_read into the data)", () => {
  const m = [
    asm.mov64Reg(R.r6, R.r1), // would clobber r6 ...
    asm.mov64Reg(R.r1, R.r6),
    asm.alu64Imm(asm.ADD, R.r1, 0),
    asm.mov64Imm(R.r2, 4),
    asm.alu64Imm(asm.ADD, R.r3, 164),
    asm.call(113),
  ];
  assert.deepEqual(rules(m.slice(1)), []);
  // ... unless it is saved and restored.
  assert.deepEqual(rules(m), ["0:callee-saved"]);
  assert.deepEqual(
    rules([asm.stxMem(asm.DW, R.r10, R.r6, -8), ...m, asm.ldxMem(asm.DW, R.r6, R.r10, -8)]),
    [],
  );
});

test("stack access outside R10-256 .. R10-1 (the manual's R10-264 store)", () => {
  assert.deepEqual(rules([asm.stxMem(asm.DW, R.r10, R.r1, -264)]), ["0:stack"]);
  assert.deepEqual(rules([asm.stxMem(asm.DW, R.r10, R.r1, -256)]), []);
  assert.deepEqual(
    rules([asm.stxMem(asm.DW, R.r10, R.r1, -4)]),
    ["0:stack"],
    "8 bytes at r10-4 cross the top",
  );
  assert.deepEqual(rules([asm.ldxMem(asm.W, R.r0, R.r10, 0)]), ["0:stack"]);
  // Through a copy of r10.
  assert.deepEqual(
    rules([asm.mov64Reg(R.r2, R.r10), asm.alu64Imm(asm.ADD, R.r2, -300), asm.stMem(asm.W, R.r2, 0, 1)]),
    ["2:stack"],
  );
  const [v] = checkModule(encode([asm.stxMem(asm.DW, R.r10, R.r1, -264)]));
  assert.equal(
    v!.message,
    "module instruction 0 (`*(u64 *)(r10 -264) = r1`): stack access at r10-264 (8 bytes) is outside the module's 256 bytes (r10-256 .. r10-1)",
  );
});

test("stores through R1 stay inside the 64 data bytes", () => {
  assert.deepEqual(rules([asm.stMem(asm.DW, R.r1, 56, 0)]), []);
  assert.deepEqual(rules([asm.stMem(asm.DW, R.r1, 60, 0)]), ["0:data"]);
  assert.deepEqual(rules([asm.alu64Imm(asm.ADD, R.r1, 64), asm.stMem(asm.B, R.r1, 0, 0)]), ["1:data"]);
  assert.deepEqual(rules([asm.stMem(asm.W, R.r1, -4, 0)]), ["0:data"]);
  // probe_read of 72 bytes into the data area overflows it.
  assert.deepEqual(rules([asm.mov64Imm(R.r2, 72), asm.call(113)]), ["1:data"]);
  // Once R1 is something else, the guard leaves it to the verifier.
  assert.deepEqual(rules([asm.ldxMem(asm.DW, R.r1, R.r3, 0), asm.stMem(asm.DW, R.r1, 100, 0)]), []);
});

test("R10 is read-only", () => {
  assert.deepEqual(rules([asm.alu64Imm(asm.ADD, R.r10, -8)]), ["0:r10"]);
  assert.deepEqual(rules([asm.mov64Reg(R.r10, R.r1)]), ["0:r10"]);
});

test("no exit", () => {
  assert.deepEqual(rules([asm.mov64Imm(0, 0), asm.exit()]), ["1:exit"]);
});

test("jumps stay inside the module or land exactly at its end", () => {
  assert.deepEqual(rules([asm.jmpImm(asm.JEQ, R.r0, 0, 1), asm.mov64Imm(0, 0)]), [], "to the end");
  assert.deepEqual(rules([asm.jmpImm(asm.JEQ, R.r0, 0, 2), asm.mov64Imm(0, 0)]), ["0:jump"], "past the end");
  assert.deepEqual(rules([asm.ja(-2)]), ["0:jump"], "before the start");
  assert.deepEqual(rules([asm.ja(1), asm.ldImm64(R.r0, 1n)]), ["0:jump"], "into an LD_IMM64");
});

test("R6-R9 hold the caller's values on every path (a clobbered R7 on one branch)", () => {
  const m = [asm.jmpImm(asm.JEQ, R.r0, 0, 1), asm.mov64Imm(R.r7, 1), asm.mov64Imm(0, 0)];
  assert.deepEqual(rules(m), ["1:callee-saved"]);
  // Saved and restored around the branch: fine.
  assert.deepEqual(
    rules([asm.stxMem(asm.DW, R.r10, R.r7, -16), ...m, asm.ldxMem(asm.DW, R.r7, R.r10, -16)]),
    [],
  );
  // Restored from the wrong slot, or the slot overwritten in between: not fine.
  assert.deepEqual(
    rules([asm.stxMem(asm.DW, R.r10, R.r7, -16), asm.mov64Imm(R.r7, 1), asm.ldxMem(asm.DW, R.r7, R.r10, -8)])
      .length,
    1,
  );
  assert.deepEqual(
    rules([
      asm.stxMem(asm.DW, R.r10, R.r7, -16),
      asm.mov64Imm(R.r7, 1),
      asm.stMem(asm.W, R.r10, -12, 0),
      asm.ldxMem(asm.DW, R.r7, R.r10, -16),
    ]).length,
    1,
  );
  // A helper writing over the saved slot.
  assert.equal(
    rules([
      asm.stxMem(asm.DW, R.r10, R.r7, -16),
      asm.mov64Imm(R.r7, 1),
      asm.mov64Reg(R.r1, R.r10),
      asm.alu64Imm(asm.ADD, R.r1, -16),
      asm.mov64Imm(R.r2, 8),
      asm.call(113),
      asm.ldxMem(asm.DW, R.r7, R.r10, -16),
    ]).length,
    1,
  );
  // Reading R6 is fine; a loop that keeps it converges.
  assert.deepEqual(
    rules([
      asm.mov64Reg(R.r0, R.r6),
      { ...asm.alu64Imm(asm.ADD, R.r0, 1) },
      asm.jmpImm(asm.JLT, R.r0, 10, -2),
    ]),
    [],
  );
});

test("LD_IMM64 pairs are whole", () => {
  const cut = encode([asm.ldImm64(R.r0, 1n)]).slice(0, 8);
  assert.deepEqual(rules(cut), ["0:ld_imm64"]);
  const bad = encode([asm.ldImm64(R.r0, 1n)]);
  bad[9] = 0x11;
  assert.deepEqual(rules(bad), ["0:ld_imm64"]);
});

test("helper calls: allowed helpers only, no bpf-to-bpf or kfunc calls", () => {
  assert.deepEqual(
    rules([asm.call(6)], { allowedHelpers: (id: number) => id !== 6, helperName: () => "bpf_trace_printk" }),
    ["0:helper"],
  );
  assert.deepEqual(rules([{ ...asm.call(1), src: 1 }]), ["0:call"]);
});

test("unknown opcodes and odd lengths", () => {
  assert.deepEqual(rules([{ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }]), ["0:opcode"]);
  assert.deepEqual(rules(new Uint8Array(12)), ["1:length"]);
});

test("assertModule throws one line naming the instruction and the rule", () => {
  assert.throws(
    () => assertModule(encode([asm.mov64Imm(R.r7, 0)])),
    (e: unknown) =>
      e instanceof AbiViolation &&
      /^module instruction 0 \(`r7 = 0`\): r7 does not hold the caller's value/.test(e.message) &&
      !e.message.includes("\n"),
  );
});
