// Decoding captured bytes: each format. Nulls and the Lua decoder (ipft.capture{}), which compile against
// the running kernel's BTF, are in test/host/capture-decode.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Decoding, decodeValue, flagsText, formatBytes, ip6Text } from "../../src/capture/formats.js";

const int = (o: Partial<Extract<Decoding, { k: "int" }>>): Decoding => ({
  k: "int",
  size: 4,
  signed: false,
  be: false,
  shift: 0,
  bits: 32,
  fmt: "dec",
  ...o,
});

test("integers: byte order, sign, bitfields, hex, bool, enums and flags", () => {
  const b = Uint8Array.from([0x12, 0x34, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(decodeValue(int({ size: 2 }), b, 0), 0x3412);
  assert.equal(decodeValue(int({ size: 2, be: true }), b, 0), 0x1234);
  assert.equal(decodeValue(int({ size: 2, signed: true, bits: 16 }), b, 2), -1);
  assert.equal(decodeValue(int({ size: 4, signed: true }), b, 4), -2);
  assert.equal(decodeValue(int({ size: 8, bits: 64 }), b, 4), 0xfffffffffffffffen);
  assert.equal(decodeValue(int({ size: 8, bits: 64, signed: true }), b, 4), -2);
  assert.equal(decodeValue(int({ size: 4, fmt: "hex" }), b, 0), "0xffff3412");
  assert.equal(decodeValue(int({ size: 1, shift: 4, bits: 4 }), Uint8Array.of(0x45), 0), 4);
  assert.equal(decodeValue(int({ size: 1, shift: 0, bits: 4 }), Uint8Array.of(0x45), 0), 5);
  assert.equal(decodeValue(int({ size: 1, shift: 1, bits: 3, signed: true }), Uint8Array.of(0b1110), 0), -1);
  assert.equal(decodeValue(int({ size: 1, fmt: "bool", bits: 8 }), Uint8Array.of(2), 0), true);
  const names: [string, bigint][] = [
    ["A", 1n],
    ["B", 2n],
    ["AB", 3n],
    ["D", 8n],
  ];
  assert.equal(decodeValue(int({ size: 1, bits: 8, fmt: "enum", names }), Uint8Array.of(3), 0), "AB");
  assert.equal(decodeValue(int({ size: 1, bits: 8, fmt: "enum", names }), Uint8Array.of(9), 0), 9);
  assert.equal(flagsText(names, 0n), "0");
  assert.equal(flagsText(names, 11n), "A|B|D");
  assert.equal(flagsText(names, 0x31n), "A|0x30");
});

test("bytes: IPv4, IPv6 (RFC 5952), MAC, hex, text", () => {
  assert.equal(formatBytes("ip4", Uint8Array.of(10, 0, 0, 255)), "10.0.0.255");
  const v6 = (s: string) => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));
  assert.equal(ip6Text(v6("00000000 00000000 00000000 00000001")), "::1");
  assert.equal(ip6Text(v6("00000000 00000000 00000000 00000000")), "::");
  assert.equal(ip6Text(v6("fe800000 00000000 02000000 00000001")), "fe80::200:0:0:1");
  assert.equal(ip6Text(v6("20010db8 00000000 00010000 00000000")), "2001:db8:0:0:1::");
  assert.equal(ip6Text(v6("20010db8 00010001 00010001 00010001")), "2001:db8:1:1:1:1:1:1");
  assert.equal(ip6Text(v6("20010db8 00000001 00010001 00010001")), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatBytes("mac", Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 0xff)), "02:42:ac:11:00:ff");
  assert.equal(formatBytes("hex", Uint8Array.of(0, 0xab)), "00ab");
  assert.equal(formatBytes("str", Uint8Array.from(Buffer.from("lo\0xx"))), "lo");
  assert.equal(formatBytes("str", Uint8Array.of(0x61, 0x0a, 0x5c, 0xc3)), "a\\x0a\\x5c\\xc3");
});
