// Decoding captured bytes: nulls, and the Lua decoder (ipft.capture{}) agreeing with the CLI's on the same
// bytes, for captures compiled against the running kernel's BTF.
// Needs this machine: /sys/kernel/btf/vmlinux (skipped, saying so, without it).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { captureDumper, compileCapture, decodeCapture } from "../../src/capture/index.js";
import { Script } from "../../src/script/index.js";
import { tempDir } from "../support/temp-dir.js";
import { env, noBtf, scriptEnv } from "./capture-btf.js";

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
  const dir = tempDir("ipft-capture");
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
  const dir = tempDir("ipft-capture");
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
