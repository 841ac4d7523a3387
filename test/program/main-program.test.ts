import assert from "node:assert/strict";
import { test } from "node:test";
import { asm, decode, encode, op } from "../../src/asm/index.js";
import { buildMainProgram } from "../../src/program/main-program.js";
import { RECORD, USER_DATA } from "../../src/program/stack-layout.js";
import { listProgram } from "../../src/session/load.js";
import { checkListedJumps } from "../asm/listing.js";
import { mainSpec } from "./fixtures.js";

test("the module's entry state follows the manual: R1 = data, R2 = ctx, R3 = skb, R4 = 0", () => {
  const mod = [asm.mov64Imm(0, 1)];
  const p = buildMainProgram(mainSpec({ module: mod }));
  const before = p.insns.slice(0, p.insns.indexOf(mod[0]!));
  const last9 = before.slice(-9);
  assert.deepEqual(
    last9.map((i) => [i.code, i.dst, i.src, i.imm]),
    [
      // R5: not a verdict point, so 0.
      [op.ALU64 | op.MOV | op.K, 5, 0, 0],
      [op.ALU64 | op.MOV | op.X, 1, 10, 0],
      [op.ALU64 | op.ADD | op.K, 1, 0, USER_DATA],
      [op.ALU64 | op.MOV | op.X, 2, 6, 0],
      [op.ALU64 | op.MOV | op.X, 3, 7, 0],
      [op.ALU64 | op.MOV | op.K, 4, 0, 0],
      // The rest are defined too, so ipftrace2's scripts may read or save any of them.
      [op.ALU64 | op.MOV | op.K, 8, 0, 0],
      [op.ALU64 | op.MOV | op.K, 9, 0, 0],
      [op.ALU64 | op.MOV | op.K, 0, 0, 0],
    ],
  );
  assert.equal(USER_DATA, -320);
  assert.equal(p.moduleEnd - p.moduleStart, 1);
});

for (const func of [
  { kind: "const", value: 5n },
  { kind: "get_func_ip" },
  { kind: "regs_ip", offset: 128 },
] as const) {
  for (const isReturn of [false, true]) {
    test(`every register R0-R9 holds a value when the module starts (${func.kind}${isReturn ? ", return" : ""})`, () => {
      // What the verifier checks: a register is readable once written, and a helper call leaves R1-R5
      // unreadable. ipft's part before the module is straight-line (its jumps all go to the exit).
      const mod = [asm.mov64Imm(0, 1)];
      const p = buildMainProgram(mainSpec({ func, isReturn, module: mod }));
      const defined = new Set([1, 10]); // R1 = ctx, R10 at program entry
      for (const i of p.insns.slice(0, p.insns.indexOf(mod[0]!))) {
        const cls = op.classOf(i.code);
        if (i.code === (op.JMP | op.CALL)) {
          for (let r = 1; r <= 5; r++) defined.delete(r);
          defined.add(0);
        } else if (cls === op.ALU64 || cls === op.ALU || cls === op.LDX || cls === op.LD) {
          defined.add(i.dst);
        }
      }
      assert.deepEqual(
        [...defined].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    });
  }
}

test("module slots are counted with LD_IMM64 as two", () => {
  const mod = [asm.ldImm64(0, 1n << 40n), asm.mov64Imm(0, 0)];
  const p = buildMainProgram(mainSpec({ module: mod }));
  assert.equal(p.moduleEnd - p.moduleStart, 3);
  const bytes = encode(p.insns);
  // The module's first slot is its LD_IMM64.
  assert.equal(bytes[p.moduleStart * 8], op.LD_IMM64);
});

test("the mark is compared in 32 bits, with the mask applied only when given", () => {
  const plain = buildMainProgram(mainSpec({ mark: 0xfffffff0 })).insns;
  const cmp = plain.find((i) => i.code === (op.JMP32 | op.JNE | op.K))!;
  assert.equal(cmp.imm >>> 0, 0xfffffff0);
  assert.equal(plain.filter((i) => i.code === (op.ALU | op.AND | op.K)).length, 0);
  const masked = buildMainProgram(mainSpec({ mark: 0x1234, mask: 0xff00 })).insns;
  assert.equal(masked.find((i) => i.code === (op.ALU | op.AND | op.K))!.imm >>> 0, 0xff00);
  assert.equal(masked.find((i) => i.code === (op.JMP32 | op.JNE | op.K))!.imm, 0x1200);
});

test("the skb comes from the argument slot or pt_regs, the mark from its BTF offset", () => {
  const a = buildMainProgram(mainSpec({ skb: { kind: "args", index: 3 } })).insns;
  assert.deepEqual([a[1]!.code, a[1]!.dst, a[1]!.src, a[1]!.off], [op.LDX | op.DW | op.MEM, 7, 6, 24]);
  // A NULL skb ends the program at once (and makes fentry's maybe-null pointer usable).
  assert.deepEqual([a[2]!.code, a[2]!.dst, a[2]!.imm, a[2]!.target], [op.JMP | op.JEQ | op.K, 7, 0, "out"]);
  const k = buildMainProgram(mainSpec({ skb: { kind: "pt_regs", offset: 112 } })).insns;
  assert.equal(k[1]!.off, 112);
  assert.ok(a.some((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.dst === 3 && i.imm === 164));
});

test("the function field: tracepoint constant, get_func_ip, or the kprobe IP minus one", () => {
  const c = buildMainProgram(mainSpec()).insns;
  assert.ok(c.some((i) => i.code === op.LD_IMM64 && i.imm64 === 0x100000005n && i.src === 0));
  const g = buildMainProgram(mainSpec({ func: { kind: "get_func_ip" } })).insns;
  assert.ok(g.some((i) => i.code === (op.JMP | op.CALL) && i.imm === 173));
  const r = buildMainProgram(mainSpec({ func: { kind: "regs_ip", offset: 128 } })).insns;
  const ld = r.findIndex((i) => i.code === (op.LDX | op.DW | op.MEM) && i.off === 128);
  assert.ok(ld > 0);
  assert.equal(r[ld + 1]!.imm, -1);
});

test("return events set the flag; the record is zeroed and sent with ringbuf_output", () => {
  const p = buildMainProgram(mainSpec({ isReturn: true })).insns;
  assert.ok(
    p.some((i) => i.code === (op.ST | op.W | op.MEM) && i.dst === 10 && i.off === RECORD + 28 && i.imm === 1),
  );
  const zeroes = p.filter((i) => i.code === (op.ST | op.DW | op.MEM) && i.imm === 0).map((i) => i.off);
  assert.deepEqual(
    zeroes,
    Array.from({ length: 16 }, (_, k) => RECORD + k * 8),
  );
  assert.ok(p.some((i) => i.code === op.LD_IMM64 && i.src === op.PSEUDO_MAP_FD && i.imm === 7));
  assert.ok(p.some((i) => i.code === (op.JMP | op.CALL) && i.imm === 130));
});

test("every early exit jumps to the single exit, past the module", () => {
  const mod = [asm.mov64Imm(0, 0), asm.mov64Imm(0, 0)];
  const p = buildMainProgram(mainSpec({ module: mod }));
  const bytes = encode(p.insns);
  const exitAt = bytes.length / 8 - 1;
  assert.equal(bytes[exitAt * 8], op.JMP | op.EXIT);
  let pc = 0;
  let jumps = 0;
  for (const i of decode(encode(p.insns))) {
    if ((i.code & 0x07) === op.JMP || (i.code & 0x07) === op.JMP32) {
      const o = i.code & 0xf0;
      if (o !== op.CALL && o !== op.EXIT) {
        assert.equal(pc + 1 + i.off, exitAt - 1, "lands on r0 = 0 before exit");
        jumps++;
      }
    }
    pc += i.imm64 !== undefined ? 2 : 1;
  }
  assert.equal(jumps, 5);
});

test("the program listing (--gen program) shows each jump with the offset it is encoded with", () => {
  // A module with jumps of its own, one of them over a 64-bit immediate load; ipft's jumps to its exit
  // pass over the function id and the map loads.
  const mod = [
    asm.jmpImm(asm.JEQ, 3, 0, 3),
    asm.ldImm64(0, 1n << 40n),
    asm.mov64Imm(0, 1),
    asm.stxMem(asm.DW, 1, 0, 0),
  ];
  for (const func of [{ kind: "const", value: 5n } as const, { kind: "get_func_ip" } as const]) {
    const lines = listProgram(buildMainProgram(mainSpec({ func, module: mod })));
    const over = checkListedJumps(lines, (why) => assert.fail(why));
    assert.ok(over >= 4, `${over} jumps over a 64-bit load`);
    const own = lines.filter((l) => l.includes("goto pc") && !l.endsWith("; module"));
    assert.ok(own.length >= 5 && own.every((l) => !l.includes("goto pc+0")), own.join("\n"));
  }
});
