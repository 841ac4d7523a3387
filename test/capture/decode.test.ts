// Decoding captured bytes: each format, nulls, and the Lua decoder (ipft.capture{}) agreeing with the
// CLI's on the same bytes.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Decoding, decodeValue, flagsText, formatBytes, ip6Text } from "../../src/capture/formats.js";
import { captureDumper, compileCapture, decodeCapture } from "../../src/capture/index.js";
import { Script } from "../../src/script/index.js";
import { env, noBtf, scriptEnv } from "./support.js";

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

const TEXTS = [
  "skb->len",
  "skb->dev->name",
  "ip->saddr",
  "ip6->daddr",
  "ip->protocol:enum(IPPROTO)",
  "udp->dest",
  "tcp->flags",
  "tcp->syn",
  "s=skb->sk->sk_rcvbuf",
  "gso=skb_shinfo(skb)->gso_type:flags(SKB_GSO)",
  "eth->h_dest",
];

test("a null field shows as null in text and JSON", { skip: noBtf }, () => {
  const cap = compileCapture(["skb->len", "skb->dev->name"], env());
  const data = new Uint8Array(64);
  data[0] = 0b01; // len read, dev not
  new DataView(data.buffer).setUint32(1, 142, true);
  assert.deepEqual(decodeCapture(cap, data), [
    ["len", 142],
    ["dev", null],
  ]);
  const d = captureDumper(cap);
  assert.equal(d.dumpFormatted!(data, "text"), "( len: 142 dev: null )");
  assert.equal(d.dumpFormatted!(data, "json"), ',"len":142,"dev":null');
});

test("ipft.capture{} in Lua decodes exactly as the CLI does, in text and JSON", { skip: noBtf }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-capture-"));
  const path = join(dir, "cap.lua");
  writeFileSync(
    path,
    `local module, decode, layout = ipft.capture{ ${TEXTS.map((t) => JSON.stringify(t)).join(", ")} }
     function emit() return module end
     function dump(data) return decode(data) end
     nfields = #layout`,
  );
  const s = Script.load(path, scriptEnv());
  try {
    const cap = compileCapture(TEXTS, env());
    assert.deepEqual(Buffer.from(s.emit()), Buffer.from(cap.bytes));
    const js = captureDumper(cap);
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    };
    for (let n = 0; n < 300; n++) {
      const data = new Uint8Array(64);
      for (let i = 0; i < 64; i++)
        data[i] = n % 3 === 0 ? rand() & 0xff : rand() % 4 === 0 ? rand() & 0xff : 0;
      if (n % 5 === 0) data[0] = data[1] = 0xff;
      for (const format of ["text", "json"] as const) {
        assert.equal(s.dumpFormatted(data, format), js.dumpFormatted!(data, format), `record ${n} ${format}`);
      }
    }
  } finally {
    s.close();
  }
});

test("ipft.capture errors point at the script's line", { skip: noBtf }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-capture-"));
  const env2 = scriptEnv();
  const bad: [string, RegExp][] = [
    [
      '\nlocal m = ipft.capture{ "skb->nosuch" }',
      /cap\d\.lua:2: capture "skb->nosuch": .*no member "nosuch"/,
    ],
    ["local m = ipft.capture('skb->len')", /cap\d\.lua:1: ipft.capture: pass a table of capture strings/],
    ["local m = ipft.capture{ 1 }", /cap\d\.lua:1: ipft.capture: element 1 is a number, not a string/],
    ["local m = ipft.capture{}", /cap\d\.lua:1: ipft.capture: nothing to capture/],
  ];
  bad.forEach(([code, re], i) => {
    const path = join(dir, `cap${i}.lua`);
    writeFileSync(path, code);
    assert.throws(
      () => Script.load(path, env2),
      (e: Error) => re.test(e.message),
      `${code} -> ${re}`,
    );
  });
});

test("examples/gso-capture.lua: the GSO example as two lines of ipft.capture", { skip: noBtf }, () => {
  const root = new URL("../../../", import.meta.url).pathname;
  const s = Script.load(`${root}examples/gso-capture.lua`, scriptEnv());
  try {
    const cap = compileCapture(
      [
        "skb->len",
        "gso_size=skb_shinfo(skb)->gso_size",
        "gso_segs=skb_shinfo(skb)->gso_segs",
        "gso_type=skb_shinfo(skb)->gso_type:hex",
      ],
      env(),
    );
    assert.deepEqual(Buffer.from(s.emit()), Buffer.from(cap.bytes));
    const data = new Uint8Array(64);
    const dv = new DataView(data.buffer);
    data[0] = 0b1111;
    dv.setUint32(1, 142, true);
    dv.setUint16(5, 1448, true);
    dv.setUint16(7, 3, true);
    dv.setUint32(9, 0x11, true);
    assert.equal(s.dumpFormatted(data, "text"), "( len: 142 gso_size: 1448 gso_segs: 3 gso_type: 0x11 )");
    assert.equal(s.dumpFormatted(data, "json"), ',"len":142,"gso_size":1448,"gso_segs":3,"gso_type":"0x11"');
  } finally {
    s.close();
  }
});
