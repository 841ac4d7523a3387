// The main program with extras (--snaplen, --stack): the ring reservation path only when asked for, with a
// constant size; today's ringbuf_output path, unchanged, otherwise.
import assert from "node:assert/strict";
import { test } from "node:test";
import { encode, type Insn, op } from "../../src/asm/index.js";
import type { PartsRequest as ExtrasRequest } from "../../src/program/extras.js";
import { buildMainProgram, type MainProgramSpec } from "../../src/program/main-program.js";
import { DEV_IFINDEX, DEV_NAME, DEVICE_SIZE } from "../../src/record/parts/device.js";
import { stackDepthFor } from "../../src/record/parts/stack.js";
import {
  FLAG_DEVICE,
  MAX_STACK_DEPTH,
  OFF_CAP_LEN,
  OFF_FLAGS,
  OFF_LINK,
  OFF_STACK_DEPTH,
  OFF_WIRE_LEN,
  VERDICT_CONSUME,
  VERDICT_DROP,
} from "../../src/record/record.js";
import { listProgram } from "../../src/session/load.js";
import { Helper } from "../../src/sys/bpf-abi.js";
import { checkListedJumps } from "../asm/listing.js";
import { mainSpec } from "./fixtures.js";

// This kernel's offsets (6.x); the program takes whatever BTF says.
const SKB = { len: 112, head: 192, data: 200, tail: 184, macHeader: 182, networkHeader: 180 };

const extras = (snaplen: number, stack: ExtrasRequest["stack"]): ExtrasRequest => ({
  snaplen,
  stack,
  skb: SKB,
});
/** The bytes a record takes in the ring: 128, the device part, the bytes rounded up to 8, the stack. */
const extrasRecordSize = (snaplen: number, depth: number, device = false): number =>
  128 + (device ? DEVICE_SIZE : 0) + ((snaplen + 7) & ~7) + 8 * depth;
const DROP = { kind: VERDICT_DROP, locationArg: 1, reasonArg: 2 };
const calls = (insns: Insn[]) => insns.filter((i) => i.code === (op.JMP | op.CALL)).map((i) => i.imm);

test("without extras, or with nothing to add at this unit, the program is today's, byte for byte", () => {
  const plain = encode(buildMainProgram(mainSpec()).insns);
  assert.ok(calls(buildMainProgram(mainSpec()).insns).includes(Helper.ringbuf_output));
  for (const x of [extras(0, "off"), extras(0, "drops")]) {
    // --stack (at drops) adds nothing where packets are not dropped.
    assert.deepEqual(encode(buildMainProgram(mainSpec({ extras: x })).insns), plain);
  }
  const consume = { kind: VERDICT_CONSUME, locationArg: 1 };
  assert.deepEqual(
    encode(buildMainProgram(mainSpec({ verdict: consume, extras: extras(0, "drops") })).insns),
    encode(buildMainProgram(mainSpec({ verdict: consume })).insns),
  );
});

test("with extras: reserve a constant size, copy the record, read, submit; never ringbuf_output", () => {
  const cases: [ExtrasRequest, MainProgramSpec["verdict"], number, number][] = [
    [extras(128, "off"), undefined, 128, 0],
    [extras(1500, "off"), undefined, 1500, 0],
    [extras(61, "off"), undefined, 61, 0],
    [extras(0, "drops"), DROP, 0, MAX_STACK_DEPTH],
    [extras(0, "all"), undefined, 0, MAX_STACK_DEPTH],
    [extras(128, "all"), DROP, 128, MAX_STACK_DEPTH],
  ];
  for (const [x, verdict, snaplen, depth] of cases) {
    const p = buildMainProgram(mainSpec({ extras: x, ...(verdict ? { verdict } : {}) })).insns;
    const c = calls(p);
    assert.ok(!c.includes(Helper.ringbuf_output));
    assert.equal(c.filter((h) => h === Helper.ringbuf_reserve).length, 1);
    assert.equal(c.filter((h) => h === Helper.ringbuf_submit).length, 1);
    assert.equal(c.includes(Helper.get_stack), depth > 0);
    // The reservation's size is an immediate: 128 + snaplen rounded up to 8 + 8 per frame.
    const at = p.findIndex((i) => i.code === (op.JMP | op.CALL) && i.imm === Helper.ringbuf_reserve);
    const size = p[at - 2]!;
    assert.equal(size.code, op.ALU64 | op.MOV | op.K);
    assert.equal(size.dst, 2);
    assert.equal(size.imm, 128 + Math.ceil(snaplen / 8) * 8 + 8 * depth);
    assert.equal(size.imm, extrasRecordSize(snaplen, depth));
    // The record goes over in 16 u64 stores, then the extras' fields are written into the reservation.
    const r8Stores = p.filter((i) => i.code === (op.STX | op.DW | op.MEM) && i.dst === 8).map((i) => i.off);
    assert.deepEqual(
      r8Stores,
      Array.from({ length: 16 }, (_, k) => 8 * k),
    );
    // The fields are u16 and u32 stores into the reservation (the record's copy is u64 stores).
    const fieldStores = new Set(
      p
        .filter((i) => ((i.code & 0x07) === op.STX || (i.code & 0x07) === op.ST) && (i.code & 0x18) !== op.DW)
        .flatMap((i) => (i.dst === 8 ? [i.off] : [])),
    );
    assert.equal(
      fieldStores.has(OFF_CAP_LEN) && fieldStores.has(OFF_WIRE_LEN) && fieldStores.has(OFF_LINK),
      snaplen > 0,
    );
    assert.equal(fieldStores.has(OFF_STACK_DEPTH), depth > 0);
    // The packet's length register is bounded by snaplen before the read (the verifier needs it).
    if (snaplen > 0) assert.ok(p.some((i) => i.code === (op.JMP | op.JLE | op.K) && i.imm === snaplen));
  }
});

test("the skb's fields are read with one probe read when they are close, the start from mac else network", () => {
  const p = buildMainProgram(mainSpec({ extras: extras(128, "off") })).insns;
  const lens = p.filter((i) => i.code === (op.ALU64 | op.MOV | op.K) && i.dst === 2).map((i) => i.imm);
  assert.ok(lens.includes(200 + 8 - 112), "one read from len to the end of data");
  // The mac header, then the network header: taken where the mac header is 0xffff, or stale (after the
  // network header: the packet was encapsulated since); three 16-bit loads.
  const h = p.filter((i) => i.code === (op.LDX | op.H | op.MEM) && i.src === 10);
  assert.equal(h.length, 3);
  assert.ok(p.some((i) => i.code === (op.JMP | op.JEQ | op.K) && i.imm === 0xffff));
  assert.ok(p.some((i) => i.code === (op.JMP | op.JLE | op.X)));
  // Fields far apart: one read each.
  const far = buildMainProgram(
    mainSpec({ extras: { snaplen: 64, stack: "off", skb: { ...SKB, len: 0, data: 400 } } }),
  );
  assert.equal(calls(far.insns).filter((c) => c === 113).length, 1 + 6 + 1);
});

test("--stack takes stacks at the drop tracepoint only; --stack all everywhere", () => {
  assert.equal(stackDepthFor("off", VERDICT_DROP), 0);
  assert.equal(stackDepthFor("drops", VERDICT_DROP), MAX_STACK_DEPTH);
  assert.equal(stackDepthFor("drops", VERDICT_CONSUME), 0);
  assert.equal(stackDepthFor("drops", undefined), 0);
  assert.equal(stackDepthFor("all", undefined), MAX_STACK_DEPTH);
});

test("the listing of a program with extras shows every jump with its encoded offset", () => {
  const lines = listProgram(buildMainProgram(mainSpec({ verdict: DROP, extras: extras(100, "drops") })));
  checkListedJumps(lines, (why) => assert.fail(why));
  const text = lines.join("\n");
  assert.match(text, /call #131\n/);
  assert.match(text, /call #132\n/);
});

// This kernel's net_device and sock offsets (6.18): ifindex, nd_net.net and name within 72 bytes.
const DEV = { dev: 16, sk: 24, devIfindex: 224, devName: 280, devNet: 264, skNet: 48, netInum: 224 };

test("the device part (-w): FLAG_DEVICE set, 24 bytes zeroed then read, the packet bytes after it", () => {
  for (const snaplen of [0, 128]) {
    const x: ExtrasRequest = { ...extras(snaplen, "off"), device: DEV };
    const p = buildMainProgram(mainSpec({ extras: x })).insns;
    const c = calls(p);
    assert.ok(!c.includes(Helper.ringbuf_output), "the device part goes through the reservation");
    const at = p.findIndex((i) => i.code === (op.JMP | op.CALL) && i.imm === Helper.ringbuf_reserve);
    assert.equal(p[at - 2]!.imm, 128 + DEVICE_SIZE + Math.ceil(snaplen / 8) * 8);
    assert.equal(p[at - 2]!.imm, extrasRecordSize(snaplen, 0, true));
    // flags |= FLAG_DEVICE in the reservation.
    assert.ok(p.some((i) => i.code === (op.ALU | op.OR | op.K) && i.imm === FLAG_DEVICE));
    assert.ok(p.some((i) => i.code === (op.STX | op.W | op.MEM) && i.dst === 8 && i.off === OFF_FLAGS));
    // The part is zeroed (a failed read leaves zeros), then filled: ifindex (u32) and the name (two u64).
    const zeroed = p.filter((i) => i.code === (op.ST | op.DW | op.MEM) && i.dst === 8).map((i) => i.off);
    assert.deepEqual(zeroed, [128, 136, 144]);
    assert.ok(
      p.some((i) => i.code === (op.STX | op.W | op.MEM) && i.dst === 8 && i.off === 128 + DEV_IFINDEX),
    );
    const nameStores = p.filter((i) => i.code === (op.STX | op.DW | op.MEM) && i.dst === 8 && i.off >= 136);
    assert.deepEqual(
      nameStores.map((i) => i.off),
      [128 + DEV_NAME, 128 + DEV_NAME + 8],
    );
    // Probe reads: the mark; skb->dev, then ifindex..name in one (72 bytes from ifindex), the namespace's
    // inode into the record; without a device: skb->sk, its net (then the same inode read).
    const lens = p.filter((i) => i.code === (op.ALU64 | op.MOV | op.K) && i.dst === 2).map((i) => i.imm);
    assert.ok(lens.includes(280 + 16 - 224), "one read from ifindex to the name's end");
    const reads = calls(p).filter((h) => h === 113).length;
    assert.equal(reads, 1 + 3 + 2 + (snaplen > 0 ? 2 : 0));
    // The packet bytes are read to just after the part.
    if (snaplen > 0)
      assert.ok(
        p.some((i) => i.code === (op.ALU64 | op.ADD | op.K) && i.dst === 1 && i.imm === 128 + DEVICE_SIZE),
      );
  }
  // Without namespaces in BTF: no namespace reads, netns stays 0.
  const noNs = buildMainProgram(
    mainSpec({ extras: { ...extras(0, "off"), device: { ...DEV, devNet: -1, skNet: -1, netInum: -1 } } }),
  ).insns;
  assert.equal(calls(noNs).filter((h) => h === 113).length, 1 + 2);
});

test("the drop-facts part reads kfree_skb's socket (rx_sk) only where the tracepoint has it", () => {
  const sock = {
    family: 16,
    num: 14,
    rcvSaddr: 4,
    v6RcvSaddr: 56,
    rcvbuf: 276,
    backlog: 196,
    socket: 280,
    socketIno: 192,
  };
  const dropFacts = { device: DEV, devMtu: 232, skb: SKB, sock };
  const x: ExtrasRequest = { ...extras(0, "off"), dropFacts };
  const readsCtx = (p: Insn[], off: number) =>
    p.some((i) => i.code === (op.LDX | op.MEM | op.DW) && i.src === 6 && i.off === off);
  const withSock = buildMainProgram(mainSpec({ verdict: { ...DROP, sockArg: 3 }, extras: x }));
  assert.ok(readsCtx(withSock.insns, 24), "rx_sk is the context's fourth slot");
  checkListedJumps(listProgram(withSock), (why) => assert.fail(why));
  // A kernel before 6.11 (no rx_sk), or BTF without the socket's offsets: no read of it.
  const old = buildMainProgram(mainSpec({ verdict: DROP, extras: x })).insns;
  assert.ok(!readsCtx(old, 24));
  const noLayout = buildMainProgram(
    mainSpec({
      verdict: { ...DROP, sockArg: 3 },
      extras: { ...x, dropFacts: { ...dropFacts, sock: undefined } },
    }),
  ).insns;
  assert.ok(!readsCtx(noLayout, 24));
  assert.ok(withSock.insns.length > old.length);
});
