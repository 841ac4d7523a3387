// ipftrace2's register habits pass the ABI guard: saving all of R6-R9 on the module's stack at entry and
// loading them back at the end, and reading every register at entry. The test scripts are the ones the
// kernel tests run (test/script/fixtures/), emitted here against a fake kernel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { asm, encode, type Insn } from "../../src/asm/index.js";
import { checkModule } from "../../src/program/module-abi.js";
import { Script, type ScriptEnv } from "../../src/script/index.js";

const FIXTURES = fileURLToPath(new URL("../../../test/script/fixtures/", import.meta.url));
const rules = (insns: Insn[]) => checkModule(encode(insns)).map((v) => `${v.index}:${v.rule}`);

function fakeKernel(endSize: 4 | 8): ScriptEnv {
  const members: Record<string, [number, string]> = {
    "sk_buff.len": [112, "unsigned int"],
    "sk_buff.data_len": [116, "unsigned int"],
    "sk_buff.head": [192, "uintptr_t"],
    "sk_buff.end": [188, endSize === 4 ? "sk_buff_data_t" : "uintptr_t"],
    "skb_shared_info.gso_size": [4, "short unsigned int"],
    "skb_shared_info.gso_segs": [6, "short unsigned int"],
  };
  const sizes: Record<string, number> = {
    "unsigned int": 4,
    uintptr_t: 8,
    sk_buff_data_t: 4,
    "short unsigned int": 2,
  };
  const member = (t: string, m: string) => {
    const v = members[`${t}.${m}`];
    if (!v) throw new Error(`struct ${t} has no member "${m}"`);
    return v;
  };
  return {
    btf: {
      offsetof: (t, m) => member(t, m)[0],
      typeof: (t, m) => member(t, m)[1],
      sizeof: (t) => {
        const n = sizes[t];
        if (n === undefined) throw new Error(`no type ${t}`);
        return n;
      },
    },
    helpers: new Map([
      ["probe_read", 4],
      ["probe_read_kernel", 113],
    ]),
  };
}

function emitted(file: string, env = fakeKernel(4)): Uint8Array {
  const s = Script.load(`${FIXTURES}${file}`, env);
  try {
    return s.emit();
  } finally {
    s.close();
  }
}

test("saving R6-R9 at entry, overwriting R0-R9 and restoring R6-R9 passes (save-restore-all.lua)", () => {
  const code = emitted("save-restore-all.lua");
  assert.equal(code.length / 8, 19);
  assert.deepEqual(checkModule(code), []);
});

test("reading every register at entry into the stack and the data area passes (read-all-registers.lua)", () => {
  const code = emitted("read-all-registers.lua");
  assert.equal(code.length / 8, 18);
  assert.deepEqual(checkModule(code), []);
});

for (const endSize of [4, 8] as const) {
  test(`a GSO script keeping its own pointers in the saved R6-R9 passes (skb->end of ${endSize} bytes)`, () => {
    assert.deepEqual(checkModule(emitted("gso-saved-regs.lua", fakeKernel(endSize))), []);
  });
}

test("the guard still holds the line: a restore into the wrong register, or a missing one, is refused", () => {
  const save = [6, 7, 8, 9].map((r) => asm.stxMem(asm.DW, 10, r, -8 * (r - 5)));
  const clobber = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((r) => asm.mov64Imm(r, r));
  const restore = [9, 8, 7, 6].map((r) => asm.ldxMem(asm.DW, r, 10, -8 * (r - 5)));
  assert.deepEqual(rules([...save, ...clobber, ...restore]), []);
  // R8 and R9 loaded from each other's slot.
  const swapped = [...restore];
  swapped[0] = asm.ldxMem(asm.DW, 9, 10, -24);
  swapped[1] = asm.ldxMem(asm.DW, 8, 10, -32);
  assert.deepEqual(rules([...save, ...clobber, ...swapped]), ["14:callee-saved", "15:callee-saved"]);
  // R9 never loaded back.
  assert.deepEqual(rules([...save, ...clobber, ...restore.slice(1)]), ["13:callee-saved"]);
});

test("reading R0-R9 at entry, through moves, ALU and stores, passes", () => {
  const reads: Insn[] = [];
  for (let r = 0; r <= 9; r++) reads.push(asm.stxMem(asm.DW, 10, r, -8 * (r + 1)));
  reads.push(asm.mov64Reg(0, 8), asm.alu64Reg(asm.ADD, 0, 9), asm.alu64Reg(asm.OR, 0, 5));
  reads.push(asm.stxMem(asm.DW, 1, 0, 0));
  assert.deepEqual(rules(reads), []);
});
