// The filter block's contract, checked on libpcap's real output for every test expression (the verdicts
// themselves are checked in the kernel, test/kernel/filter-xdp.test.ts), and the errors a user can meet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Insn, isJump, op } from "../../src/asm/index.js";
import { R4, R6, R8, R9, R10 } from "../../src/asm/opcodes.js";
import { UsageError } from "../../src/core/errors.js";
import {
  type CbpfInsn,
  CLOBBERED,
  compilePcapFilter,
  copyPacket,
  emitFilter,
  FilterTranslateError,
  type LinkType,
  packetReach,
  SCRATCH_SIZE,
  stackPacketAccess,
} from "../../src/filter/index.js";
import { offlineFilter } from "../../src/sys/pcap.js";
import { EXPRESSIONS, RAW_REFUSED } from "./expressions.js";

const BUF_OFF = -SCRATCH_SIZE - 256;
const spec = {
  bufOff: BUF_OFF,
  bufSize: 256,
  capLenReg: R8,
  wireLenReg: R9,
  scratchOff: -SCRATCH_SIZE,
  match: "match",
  nomatch: "nomatch",
};
const emit = (cbpf: CbpfInsn[]) => emitFilter(cbpf, spec);

const SIZE = { [op.B]: 1, [op.H]: 2, [op.W]: 4, [op.DW]: 8 } as Record<number, number>;

/** What breaks the block's contract in `insns`: registers written, calls, stray labels, unreachable code,
 * misaligned or out-of-frame stack accesses. */
function contractBreaks(insns: Insn[]): string[] {
  const out: string[] = [];
  const labels = new Set(insns.flatMap((i) => (i.label ? [i.label] : [])));
  const cls = (i: Insn) => op.classOf(i.code);
  insns.forEach((i, n) => {
    const writes = cls(i) === op.ALU || cls(i) === op.ALU64 || cls(i) === op.LDX || cls(i) === op.LD;
    if (writes && !CLOBBERED.includes(i.dst)) out.push(`${n}: writes r${i.dst}`);
    if (cls(i) === op.JMP && (op.opOf(i.code) === op.CALL || op.opOf(i.code) === op.EXIT))
      out.push(`${n}: call or exit`);
    if (isJump(i) && !(i.target && (labels.has(i.target) || i.target === "match" || i.target === "nomatch")))
      out.push(`${n}: jumps to ${i.target ?? i.off}`);
    const mem = cls(i) === op.LDX || cls(i) === op.STX || cls(i) === op.ST;
    if (mem && (i.dst === R10 || i.src === R10)) {
      const size = SIZE[op.sizeOf(i.code)]!;
      if (i.off % size !== 0) out.push(`${n}: misaligned stack access at ${i.off}`);
      if (i.off < BUF_OFF || i.off + size > 0) out.push(`${n}: stack access at ${i.off} outside the frame`);
    }
  });
  return out;
}

for (const linktype of ["ethernet", "raw"] as LinkType[]) {
  test(`every test expression (${linktype}): a block that writes r0-r3 only, calls nothing, exits only to the caller's labels, loads aligned`, () => {
    let n = 0;
    for (const expr of EXPRESSIONS) {
      if (linktype === "raw" && expr in RAW_REFUSED) continue;
      const block = emit(compilePcapFilter(expr, { linktype }).cbpf);
      assert.deepEqual(contractBreaks(block), [], expr);
      assert.ok(block.some((i) => i.target === "match") && block.some((i) => i.target === "nomatch"), expr);
      n++;
    }
    assert.ok(n >= 30, `${n} expressions`);
  });
}

test("the contract check sees a write to r4, a call and a misaligned load", () => {
  const block = emit(compilePcapFilter("tcp", { linktype: "ethernet" }).cbpf);
  const bad = [...block, { code: op.ALU64 | op.MOV, dst: R4, src: 0, off: 0, imm: 0 }];
  bad.push({ code: op.JMP | op.CALL, dst: 0, src: 0, off: 0, imm: 1 });
  bad.push({ code: op.LDX | op.W | op.MEM, dst: 0, src: R10, off: BUF_OFF + 2 + 4, imm: 0 });
  assert.equal(contractBreaks(bad).length - contractBreaks(block).length, 3);
});

test("a bad expression: a UsageError (exit 2) with libpcap's message on one line", () => {
  assert.throws(
    () => compilePcapFilter("tcp and dst port", { linktype: "ethernet" }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.status === 2 &&
      e.message === `bad packet filter "tcp and dst port": can't parse filter expression: syntax error`,
  );
  assert.throws(
    () => compilePcapFilter("vlan 100", { linktype: "raw" }),
    (e: unknown) => e instanceof UsageError && /no VLAN support for Raw IP$/.test((e as Error).message),
  );
});

test("describe(): the classic program as tcpdump -d lists it", () => {
  const f = compilePcapFilter("ip proto 47", { linktype: "ethernet" });
  assert.deepEqual(f.describe(), [
    "(000) ldh      [12]",
    "(001) jeq      #0x800    jt 2\tjf 5",
    "(002) ldb      [23]",
    "(003) jeq      #0x2f     jt 4\tjf 5",
    "(004) ret      #262144",
    "(005) ret      #0",
  ]);
  assert.match(
    compilePcapFilter("tcp port 80", { linktype: "ethernet" }).describe().join("\n"),
    /ldxb +4\*\(\[14\]&0xf\)\n.*ldh +\[x \+ 14\]/,
  );
});

test("offlineFilter: libpcap's verdict depends on the captured bytes and the wire length", () => {
  const f = compilePcapFilter("greater 100", { linktype: "raw" }).cbpf;
  assert.equal(offlineFilter(f, new Uint8Array(20), 120), 262144);
  assert.equal(offlineFilter(f, new Uint8Array(20)), 0);
});

test("packetReach: the furthest fixed-offset load, and whether offsets are computed", () => {
  assert.deepEqual(packetReach(compilePcapFilter("ip proto 47", { linktype: "ethernet" }).cbpf), {
    constant: 24,
    computed: false,
  });
  const port = packetReach(compilePcapFilter("tcp port 80", { linktype: "ethernet" }).cbpf);
  assert.equal(port.computed, true);
});

test("a load at an offset the buffer cannot hold jumps to nomatch, and the code only it led to is dropped", () => {
  const cbpf: CbpfInsn[] = [
    { code: 0x20, jt: 0, jf: 0, k: 300 }, // ld [300]
    { code: 0x15, jt: 0, jf: 1, k: 1 }, // jeq #1
    { code: 0x06, jt: 0, jf: 0, k: 1 },
    { code: 0x06, jt: 0, jf: 0, k: 0 },
  ];
  const block = emit(cbpf);
  assert.equal(block.filter((i) => i.target === "nomatch").length, 1);
  assert.ok(!block.some((i) => i.target === "match"), "the match return is unreachable");
});

test("programs libpcap does not make are refused with the instruction named", () => {
  const ret: CbpfInsn = { code: 0x06, jt: 0, jf: 0, k: 1 };
  const cases: [CbpfInsn[], RegExp][] = [
    [[{ code: 0x15, jt: 5, jf: 0, k: 0 }, ret], /\(000\) jeq .*: jumps past the end/],
    [[{ code: 0x60, jt: 0, jf: 0, k: 16 }, ret], /\(000\) ld +M\[16\]: scratch word 16/],
    [[{ code: 0xe0, jt: 0, jf: 0, k: 0 }, ret], /\(000\) .*unknown/],
    [[], /empty/],
  ];
  for (const [prog, re] of cases)
    assert.throws(
      () => emit(prog),
      (e: unknown) => e instanceof FilterTranslateError && re.test((e as Error).message),
    );
});

test("register and stack checks: lengths in r0-r3, a copy whose length would not survive the call", () => {
  assert.throws(() => stackPacketAccess({ ...spec, capLenReg: 2 }), /r2 would be clobbered/);
  assert.throws(() => emitFilter([], { ...spec, bufOff: -16 }), /not inside the stack/);
  const copy = { srcReg: R6, availReg: R9, bufOff: BUF_OFF, bufSize: 256, probeRead: 113 };
  assert.throws(() => copyPacket({ ...copy, capLenReg: R4 }), /must survive a call/);
  assert.throws(() => copyPacket({ ...copy, capLenReg: R6 }), /both in r6/);
  const insns = copyPacket({ ...copy, capLenReg: R8 });
  assert.equal(insns.filter((i) => op.opOf(i.code) === op.CALL && op.classOf(i.code) === op.JMP).length, 1);
});
