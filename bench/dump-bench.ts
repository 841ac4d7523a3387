// dump() calls per second with the GSO example's dump over synthetic 64-byte records: through ipft's Lua
// runtime (liblua5.3 via the FFI, bytes in and a table out), next to the same loop inside the lua5.3
// interpreter in the same run.
//   node dist/bench/dump-bench.js [calls]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWriter, numbered } from "../src/output/index.js";
import { Script } from "../src/script/index.js";

const N = Number(process.argv[2] ?? 300_000);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const example = readFileSync(`${ROOT}examples/gso.lua`, "utf8");
const env = {
  btf: { offsetof: () => 0, sizeof: () => 4, typeof: () => "__u32" },
  helpers: new Map([["probe_read_kernel", 113]]),
};
const dir = mkdtempSync(join(tmpdir(), "ipft-bench-"));
const path = join(dir, "gso.lua");
writeFileSync(path, example);
const s = Script.load(path, env);
const data = new Uint8Array(64);
new DataView(data.buffer).setUint32(0, 1442, true);
// What aggregate output does: dump() for blocks of 4096 stored records, formatted as text in Lua.
const BLOCK = 4096;
const block = new Uint8Array(BLOCK * 64);
for (let i = 0; i < BLOCK; i++) block.set(data, i * 64);
s.dumpFormattedMany(block, "text"); // warm up
let t = performance.now();
let sink = 0;
let calls = 0;
while (calls < N) {
  for (const line of s.dumpFormattedMany(block, "text")) sink += (line as string).length;
  calls += BLOCK;
}
const ipftSec = (performance.now() - t) / 1000;
// What stream and json output do: the writer batches records (per drain, at most 4096) and dump()s each
// batch in one call.
const recs = new DataView(new ArrayBuffer(BLOCK * 128));
for (let i = 0; i < BLOCK; i++) new Uint8Array(recs.buffer).set(data, i * 128 + 64);
let streamCalls = 0;
const w = createWriter("stream", {
  out: { write: (x: string) => (sink += x.length) },
  symbolizer: { resolve: () => undefined },
  dumper: s,
});
const feed = numbered(w);
t = performance.now();
while (streamCalls < N) {
  for (let i = 0; i < BLOCK; i++) feed(recs, i * 128);
  await Promise.resolve();
  streamCalls += BLOCK;
}
w.finish();
const streamSec = (performance.now() - t) / 1000;
// One record at a time through dumpFormatted (a single dump, no batch).
t = performance.now();
const single = Math.min(N, 100_000);
for (let i = 0; i < single; i++) sink += s.dumpFormatted(data, "text").length;
const singleSec = (performance.now() - t) / 1000;
// Script.dump(): the table itself, as a JS object.
t = performance.now();
for (let i = 0; i < single; i++) sink += (s.dump(data) as Record<string, number>).len!;
const valueSec = (performance.now() - t) / 1000;
s.close();

// The peer: the same dump() and the same `( k: v )` formatting in the stand-alone interpreter.
const peerFile = join(dir, "peer.lua");
writeFileSync(
  peerFile,
  `BPF = { FUNC = {} }\nipft = {}\n${example}\nlocal data = string.pack("<I4", 1442) .. string.rep("\\0", 60)\nlocal t = os.clock()\nlocal sink = 0\nlocal function text(r) local o, n = { "( " }, 1 for k, v in pairs(r) do n = n + 1 o[n] = tostring(k) .. ": " .. tostring(v) .. " " end o[n + 1] = ")" return table.concat(o, "", 1, n + 1) end\nfor i = 1, ${N} do sink = sink + #text(dump(data)) end\nio.write(os.clock() - t)\n`,
);
t = performance.now();
const r = spawnSync("lua5.3", [peerFile], { encoding: "utf8" });
const peerSec = r.status === 0 ? Number(r.stdout) : Number.NaN;
console.log(`dump() with examples/gso.lua (a table result), ${calls} calls (checksum ${sink})`);
console.log(
  `  ipft, batched (aggregate output)   ${Math.round(calls / ipftSec).toLocaleString("en")} calls/s, formatted`,
);
console.log(
  `  ipft, -o stream writer (batched)   ${Math.round(streamCalls / streamSec).toLocaleString("en")} calls/s, whole lines`,
);
console.log(
  `  ipft, one at a time                ${Math.round(single / singleSec).toLocaleString("en")} calls/s, formatted`,
);
console.log(
  `  ipft, Script.dump() as an object    ${Math.round(single / valueSec).toLocaleString("en")} calls/s`,
);
if (r.status === 0) {
  console.log(
    `  lua5.3 interpreter, same loop      ${Math.round(N / peerSec).toLocaleString("en")} calls/s, formatted (no FFI)`,
  );
  console.log(`  ratio ipft batched / lua5.3: ${(calls / ipftSec / (N / peerSec)).toFixed(2)}x`);
  console.log(
    `  ratio ipft stream writer / lua5.3: ${(streamCalls / streamSec / (N / peerSec)).toFixed(2)}x`,
  );
  console.log(`  ratio ipft one at a time / lua5.3: ${(single / singleSec / (N / peerSec)).toFixed(2)}x`);
} else console.log(`  peer: lua5.3 not available (apt-get install lua5.3): ${r.error?.message ?? r.stderr}`);
