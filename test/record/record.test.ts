import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decimalOfHalves,
  hexOfHalves,
  skbHex,
  timestampDecimal,
  u64Decimal,
  u64Hex,
} from "../../src/output/text/u64-text.js";
import { DEV_IFINDEX, DEV_NAME, DEV_NETNS, DEVICE_SIZE } from "../../src/record/parts/device.js";
import {
  EVENT_JSON_KEYS,
  PACKET,
  PARTS,
  packetBytes,
  partStart,
  readDevice,
  recordLength,
  stackAddrs,
} from "../../src/record/parts/index.js";
import {
  copyData,
  copyRecord,
  DATA_SIZE,
  FLAG_CLONE,
  FLAG_DEVICE,
  FLAG_RETURN,
  HEAD_SIZE,
  hasParts,
  isReturn,
  OFF_CAP_LEN,
  OFF_CPU,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_LINK,
  OFF_LOCATION,
  OFF_REASON,
  OFF_SKB,
  OFF_STACK_DEPTH,
  OFF_TRACK,
  OFF_TSTAMP,
  OFF_VERDICT,
  OFF_WIRE_LEN,
  RECORD_SIZE,
  readCpu,
  readFlags,
  readFunc,
  readParent,
  readSkb,
  readTimestamp,
} from "../../src/record/record.js";
import { type Ev, recordOffsets, records } from "../output/records.js";

test("record layout: the offsets the eBPF program writes", () => {
  assert.deepEqual(
    [
      OFF_SKB,
      OFF_TSTAMP,
      OFF_FUNC,
      OFF_CPU,
      OFF_FLAGS,
      OFF_VERDICT,
      OFF_REASON,
      OFF_LOCATION,
      OFF_WIRE_LEN,
      OFF_CAP_LEN,
      OFF_LINK,
      OFF_STACK_DEPTH,
      OFF_TRACK,
      OFF_DATA,
      DATA_SIZE,
    ],
    [0, 8, 16, 24, 28, 32, 36, 40, 48, 52, 54, 55, 56, 64, 64],
  );
  assert.equal(RECORD_SIZE, 128);
  assert.equal(HEAD_SIZE, 32);
  assert.equal(FLAG_RETURN, 1);
  assert.equal(FLAG_CLONE, 2);
  assert.deepEqual(EVENT_JSON_KEYS, [
    "packet_id",
    "skb",
    "timestamp",
    "processor_id",
    "module",
    "function",
    "is_return",
    "verdict",
    "delivered",
    "drop_reason",
    "explanation",
    "location",
    "parent",
    "identity",
    "packet_identity",
    "changed",
    "wire_len",
    "link",
    "cap_len",
    "packet",
    "stack",
    "ifname",
    "ifindex",
    "netns",
  ]);
});

test("a clone event's parent is its location field, read only where the clone flag says so", () => {
  const dv = new DataView(new ArrayBuffer(RECORD_SIZE));
  dv.setBigUint64(OFF_LOCATION, 0xffff888012345600n, true);
  assert.equal(readParent(dv, 0), undefined, "a verdict's location is not a parent");
  dv.setUint32(OFF_FLAGS, FLAG_CLONE, true);
  assert.equal(readParent(dv, 0), 0xffff888012345600n);
});

test("extras: packet bytes after the record, then the stack 8-aligned; the length counts both", () => {
  // A record 40 bytes into a view that starts 8 bytes into its buffer, with 13 packet bytes and 3 frames.
  const ab = new ArrayBuffer(8 + 40 + 128 + 16 + 24 + 8);
  const dv = new DataView(ab, 8);
  const off = 40;
  dv.setUint32(off + 48, 1514, true);
  dv.setUint16(off + 52, 13, true);
  dv.setUint8(off + 55, 3);
  for (let i = 0; i < 13; i++) dv.setUint8(off + 128 + i, 0xa0 + i);
  const frames = [0xffffffff81000001n, 0xffffffff81000002n, 0xffffffffc0000003n];
  frames.forEach((f, i) => {
    dv.setBigUint64(off + 128 + 16 + 8 * i, f, true);
  });
  assert.equal(recordLength(dv, off), 128 + 16 + 24);
  assert.deepEqual(
    [...packetBytes(dv, off)],
    Array.from({ length: 13 }, (_, i) => 0xa0 + i),
  );
  assert.deepEqual(stackAddrs(dv, off), frames);
  // Without extras: 128 bytes, nothing after.
  const plain = new DataView(new ArrayBuffer(128));
  assert.equal(recordLength(plain, 0), 128);
  assert.equal(packetBytes(plain, 0).length, 0);
  assert.deepEqual(stackAddrs(plain, 0), []);
  // A stack without packet bytes starts right after the record.
  dv.setUint16(off + 52, 0, true);
  dv.setBigUint64(off + 128, 7n, true);
  assert.deepEqual(stackAddrs(dv, off)[0], 7n);
  assert.equal(recordLength(dv, off), 128 + 24);
});

test("the device part: after the record when FLAG_DEVICE says so, then the packet bytes and the stack", () => {
  // A record 8 bytes into its view, with the device part, 5 packet bytes and 2 frames.
  const dv = new DataView(new ArrayBuffer(8 + 128 + DEVICE_SIZE + 8 + 16));
  const off = 8;
  dv.setUint32(off + OFF_FLAGS, FLAG_RETURN | FLAG_DEVICE, true);
  dv.setUint32(off + 128 + DEV_IFINDEX, 7, true);
  dv.setUint32(off + 128 + DEV_NETNS, 4026531840, true);
  Buffer.from("veth-ab1").forEach((b, i) => {
    dv.setUint8(off + 128 + DEV_NAME + i, b);
  });
  dv.setUint16(off + OFF_CAP_LEN, 5, true);
  dv.setUint8(off + OFF_STACK_DEPTH, 2);
  for (let i = 0; i < 5; i++) dv.setUint8(off + 128 + DEVICE_SIZE + i, 0x50 + i);
  dv.setBigUint64(off + 128 + DEVICE_SIZE + 8, 0xffffffff81000001n, true);
  dv.setBigUint64(off + 128 + DEVICE_SIZE + 16, 0xffffffff81000002n, true);
  assert.equal(DEVICE_SIZE % 8, 0, "what follows stays 8-aligned");
  assert.equal(partStart(dv, off, PACKET), 128 + DEVICE_SIZE);
  assert.equal(recordLength(dv, off), 128 + DEVICE_SIZE + 8 + 16);
  assert.deepEqual([...packetBytes(dv, off)], [0x50, 0x51, 0x52, 0x53, 0x54]);
  assert.deepEqual(stackAddrs(dv, off), [0xffffffff81000001n, 0xffffffff81000002n]);
  assert.deepEqual(readDevice(dv, off), { ifindex: 7, netns: 4026531840, name: "veth-ab1" });
  assert.ok(isReturn(dv, off), "the flag bit is its own: the other flags read as before");
  // No device (a locally built packet): ifindex 0, an empty name, the socket's namespace.
  dv.setUint32(off + 128 + DEV_IFINDEX, 0, true);
  for (let i = 0; i < 16; i++) dv.setUint8(off + 128 + DEV_NAME + i, 0);
  assert.deepEqual(readDevice(dv, off), { ifindex: 0, netns: 4026531840, name: "" });
  // Without the flag the same bytes are packet bytes: no device.
  dv.setUint32(off + OFF_FLAGS, FLAG_RETURN, true);
  assert.equal(readDevice(dv, off), undefined);
  assert.equal(partStart(dv, off, PACKET), 128);
  assert.equal(recordLength(dv, off), 128 + 8 + 16);
});

/** A ring-like buffer: the view starts 24 bytes into its ArrayBuffer, the record 256 bytes into the view. */
function ring() {
  const ab = new ArrayBuffer(1024);
  const dv = new DataView(ab, 24, 1000);
  const off = 256;
  const bytes = new Uint8Array(ab, 24 + off, 128);
  // Written byte by byte, little endian, without DataView setters.
  const put = (at: number, v: bigint, n: number) => {
    for (let i = 0; i < n; i++) bytes[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  };
  put(0, 0xffff888012345678n, 8);
  put(8, 2n ** 60n + 3n, 8);
  put(16, 0xffffffff81abcdefn, 8);
  put(24, 37n, 4);
  put(28, 0x80000001n, 4);
  for (let i = 32; i < 128; i++) bytes[i] = i;
  return { ab, dv, off };
}

test("readers read each field in place, little endian, at any offset", () => {
  const { dv, off } = ring();
  assert.equal(readSkb(dv, off), 0xffff888012345678n);
  assert.equal(readTimestamp(dv, off), 2n ** 60n + 3n);
  assert.equal(readFunc(dv, off), 0xffffffff81abcdefn);
  assert.equal(readCpu(dv, off), 37);
  assert.equal(readFlags(dv, off), 0x80000001);
  assert.equal(isReturn(dv, off), true);
  assert.equal(skbHex(dv, off), "0xffff888012345678");
  assert.equal(timestampDecimal(dv, off), "1152921504606846979");
  dv.setUint32(off + OFF_FLAGS, 0x80000000, true);
  assert.equal(isReturn(dv, off), false);
});

test("u64 text is exact across 2^53 and up to 2^64-1", () => {
  const dv = new DataView(new ArrayBuffer(16));
  const cases: [bigint, string][] = [
    [0n, "0x0"],
    [1n, "0x1"],
    [0xffffffffn, "0xffffffff"],
    [0x100000000n, "0x100000000"],
    [0x100000001n, "0x100000001"],
    [2n ** 53n - 1n, "0x1fffffffffffff"],
    [2n ** 53n, "0x20000000000000"],
    [2n ** 53n + 1n, "0x20000000000001"],
    [2n ** 64n - 1n, "0xffffffffffffffff"],
  ];
  for (const [v, hex] of cases) {
    dv.setBigUint64(8, v, true);
    assert.equal(u64Decimal(dv, 8), v.toString(), `decimal of ${v}`);
    assert.equal(u64Hex(dv, 8), hex);
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    assert.equal(decimalOfHalves(lo, hi), v.toString());
    assert.equal(hexOfHalves(lo, hi), hex);
  }
  // Every digit position, every nibble: against BigInt's own formatting.
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 2000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    const v = x >> BigInt(i % 64);
    assert.equal(hexOfHalves(Number(v & 0xffffffffn), Number(v >> 32n)), `0x${v.toString(16)}`);
  }
});

test("copyRecord copies exactly the 128 bytes, from a view with its own byte offset", () => {
  const { ab, dv, off } = ring();
  const dst = new Uint8Array(512).fill(0xee);
  copyRecord(dv, off, dst, 100);
  assert.deepEqual(dst.subarray(100, 228), new Uint8Array(ab, 24 + off, 128));
  assert.ok(dst.subarray(0, 100).every((b) => b === 0xee));
  assert.ok(dst.subarray(228).every((b) => b === 0xee));
  // A copy, not a view: changing the ring later leaves it alone.
  dv.setUint8(off, 0);
  assert.equal(dst[100], 0x78);
});

test("copyData copies the 64 user bytes only", () => {
  const { dv, off } = ring();
  const dst = new Uint8Array(80).fill(0xee);
  copyData(dv, off, dst, 8);
  assert.deepEqual(
    [...dst.subarray(8, 72)],
    Array.from({ length: 64 }, (_, i) => 64 + i),
  );
  assert.ok(dst.subarray(0, 8).every((b) => b === 0xee));
  assert.ok(dst.subarray(72).every((b) => b === 0xee));
});

test("decimal text beyond 2^53 is exact for many values (checked against bigint)", () => {
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    const v = i % 3 === 0 ? x >> BigInt(i % 11) : x; // also shorter values, near 2^53 .. 2^64
    assert.equal(decimalOfHalves(Number(v & 0xffffffffn), Number(v >> 32n)), v.toString());
  }
  for (const v of [2n ** 53n, 2n ** 53n + 999999n, 10n ** 16n, 10n ** 19n, 2n ** 64n - 1000000n]) {
    assert.equal(decimalOfHalves(Number(v & 0xffffffffn), Number(v >> 32n)), v.toString());
  }
});

test("hasParts() sees every registered part: the writers skip the parts of a record that says it has none", () => {
  const samples: Ev[] = [
    { skb: 1n, ts: 1n, func: 1n, cpu: 0 },
    { skb: 1n, ts: 1n, func: 1n, cpu: 0, device: { ifindex: 1, netns: 2, name: "lo" } },
    { skb: 1n, ts: 1n, func: 1n, cpu: 0, packet: { bytes: [0x45], wireLen: 20, link: 1 } },
    { skb: 1n, ts: 1n, func: 1n, cpu: 0, stack: [7n] },
    {
      skb: 1n,
      ts: 1n,
      func: 1n,
      cpu: 0,
      identity: { bytes: [0x45], device: { ifindex: 1, netns: 2, name: "lo" } },
    },
    {
      skb: 1n,
      ts: 1n,
      func: 1n,
      cpu: 0,
      dropFacts: { ifindex: 2, netns: 3, name: "eth0", mtu: 1500, network: [0x45] },
    },
  ];
  const dv = records(samples);
  const at = recordOffsets(samples);
  assert.equal(hasParts(dv, at[0]!), false);
  for (const part of PARTS) {
    const having = at.filter((off) => part.size(dv, off) > 0);
    assert.ok(having.length > 0, `give the ${part.name} part a sample record here`);
    for (const off of having) assert.ok(hasParts(dv, off), `hasParts() misses the ${part.name} part`);
  }
});
