// The parser's answers for the running kernel agree with bpftool's raw dump of the same BTF.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { loadKernelBtf } from "../../src/btf/index.js";

const PATH = "/sys/kernel/btf/vmlinux";
const skip = !existsSync(PATH)
  ? "no /sys/kernel/btf/vmlinux"
  : spawnSync("bpftool", ["version"]).status !== 0
    ? "bpftool not installed"
    : undefined;

/** From bpftool's raw dump: a struct's size and its members' (name, bit offset) by walking anonymous ones. */
function bpftoolMembers(dump: string[], struct: string): Map<string, number> {
  const header = new Map<number, number>(); // type id -> line index
  dump.forEach((l, i) => {
    const m = /^\[(\d+)\] /.exec(l);
    if (m) header.set(Number(m[1]), i);
  });
  const start = dump.findIndex((l) =>
    new RegExp(`^\\[\\d+\\] STRUCT '${struct}' size=\\d+ vlen=[1-9]`).test(l),
  );
  const out = new Map<string, number>();
  const walk = (line: number, base: number) => {
    for (let i = line + 1; i < dump.length && dump[i]!.startsWith("\t"); i++) {
      const m = /^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)/.exec(dump[i]!)!;
      const off = base + Number(m[3]);
      if (m[1] === "(anon)") walk(header.get(Number(m[2]))!, off);
      else out.set(m[1]!, off);
    }
  };
  walk(start, 0);
  return out;
}

test("sk_buff and skb_shared_info members agree with bpftool", { skip }, () => {
  const r = spawnSync("bpftool", ["btf", "dump", "file", PATH, "format", "raw"], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  const dump = r.stdout.split("\n");
  const btf = loadKernelBtf().vmlinux;
  const skb = bpftoolMembers(dump, "sk_buff");
  for (const m of ["mark", "len", "head", "end", "dev"])
    assert.equal(btf.offsetof("sk_buff", m) * 8, skb.get(m), `sk_buff.${m}`);
  const sh = bpftoolMembers(dump, "skb_shared_info");
  for (const m of ["gso_size", "gso_segs", "gso_type"])
    assert.equal(btf.offsetof("skb_shared_info", m) * 8, sh.get(m), `skb_shared_info.${m}`);
  const size = (s: string) =>
    Number(
      dump.find((l) => new RegExp(`STRUCT '${s}' size=\\d+ vlen=[1-9]`).test(l))!.match(/size=(\d+)/)![1],
    );
  assert.equal(btf.sizeof("sk_buff"), size("sk_buff"));
  assert.equal(btf.sizeof("skb_shared_info"), size("skb_shared_info"));
  assert.equal(btf.sizeof(btf.typeof("skb_shared_info", "gso_size")), 2);
  assert.equal(btf.sizeof(btf.typeof("sk_buff", "mark")), 4);
});
