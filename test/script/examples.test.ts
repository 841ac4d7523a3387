// The bundled examples, run against a fake kernel: their modules must pass ipft's ABI guard and their
// dump() must read back what the module layout promises.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkModule } from "../../src/program/module-abi.js";
import { Script, type ScriptEnv } from "../../src/script/index.js";
import { ENV } from "./support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function kernel(endIsPointer: boolean): ScriptEnv {
  const offsets: Record<string, number> = {
    "sk_buff.len": 112,
    "sk_buff.mark": 164,
    "sk_buff.head": 192,
    "sk_buff.end": 188,
    "skb_shared_info.gso_size": 4,
    "skb_shared_info.gso_segs": 6,
    "skb_shared_info.gso_type": 8,
  };
  const types: Record<string, string> = {
    "sk_buff.len": "unsigned int",
    "sk_buff.mark": "__u32",
    "sk_buff.head": "uintptr_t",
    "sk_buff.end": endIsPointer ? "uintptr_t" : "sk_buff_data_t",
    "skb_shared_info.gso_size": "short unsigned int",
    "skb_shared_info.gso_segs": "short unsigned int",
    "skb_shared_info.gso_type": "unsigned int",
  };
  const sizes: Record<string, number> = {
    "unsigned int": 4,
    __u32: 4,
    uintptr_t: 8,
    sk_buff_data_t: 4,
    "short unsigned int": 2,
  };
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`no ${what}`);
    return v;
  };
  return {
    btf: {
      offsetof: (t, m) => need(offsets[`${t}.${m}`], `${t}.${m}`),
      sizeof: (t) => need(sizes[t], t),
      typeof: (t, m) => need(types[`${t}.${m}`], `${t}.${m}`),
    },
    helpers: ENV.helpers,
  };
}

for (const endIsPointer of [false, true]) {
  test(`examples/gso.lua keeps the module ABI (skb->end as ${endIsPointer ? "a pointer" : "an offset"})`, () => {
    const s = Script.load(`${ROOT}examples/gso.lua`, kernel(endIsPointer));
    assert.deepEqual(s.hooks, { init: false, emit: true, dump: true, fini: false });
    const code = s.emit();
    assert.ok(code.length > 0 && code.length % 8 === 0);
    assert.deepEqual(checkModule(code), []);
    // Calls probe_read_kernel (113), never exits.
    const ops = [];
    for (let i = 0; i < code.length; i += 8) ops.push(code[i]);
    assert.ok(ops.includes(0x85));
    assert.ok(!ops.includes(0x95));
    s.close();
  });
}

test("examples/gso.lua dump reads len, gso_size, gso_segs, gso_type from the data layout", () => {
  const s = Script.load(`${ROOT}examples/gso.lua`, kernel(false));
  const data = new Uint8Array(64);
  const dv = new DataView(data.buffer);
  dv.setUint32(0, 142, true);
  dv.setUint16(4, 1448, true);
  dv.setUint16(6, 3, true);
  dv.setUint32(8, 0x11, true);
  assert.deepEqual(s.dump(data), { len: 142, gso_size: 1448, gso_segs: 3, gso_type: 0x11 });
  // In the order the script's table constructor writes them, as the file's header and docs show.
  assert.equal(s.dumpFormatted(data, "text"), "( len: 142 gso_size: 1448 gso_segs: 3 gso_type: 17 )");
  s.close();
});

test("examples/member-read.lua keeps the module ABI and prints mark and len", () => {
  const s = Script.load(`${ROOT}examples/member-read.lua`, kernel(false));
  const code = s.emit();
  assert.deepEqual(checkModule(code), []);
  const data = new Uint8Array(64);
  const dv = new DataView(data.buffer);
  dv.setUint32(0, 0x2a, true);
  dv.setUint32(4, 128, true);
  assert.equal(s.dump(data), "mark 0x2a len 128");
  s.close();
});
