// Capture decoding per second, for 8 typical fields (length, device, addresses, protocol, TCP ports and
// flags): ipft's decoder in JS (what --capture uses), the Lua decoder ipft.capture{} generates run through
// ipft's Lua runtime in batches (what a script's dump costs), and the same generated Lua inside the lua5.3
// interpreter in the same run (the peer). Also the compile time.
//   node dist/bench/capture-bench.js [records]
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKernelBtf } from "../src/btf/index.js";
import { captureDumper, compileCapture, luaCaptureChunk } from "../src/capture/index.js";
import { Script } from "../src/script/index.js";

const N = Number(process.argv[2] ?? 300_000);
const TEXTS = [
  "skb->len",
  "skb->dev->name",
  "ip->saddr",
  "ip->daddr",
  "ip->protocol:enum(IPPROTO)",
  "tcp->source",
  "tcp->dest",
  "tcp->flags",
];
const btf = loadKernelBtf().vmlinux;
let t = performance.now();
const cap = compileCapture(TEXTS, { btf, probeRead: 113 });
const compileMs = performance.now() - t;

// One realistic record: every field read.
const data = new Uint8Array(64);
const dv = new DataView(data.buffer);
data[0] = 0xff;
const at = (label: string) => cap.fields.find((f) => f.label === label)!.offset;
dv.setUint32(at("len"), 74, true);
data.set(Buffer.from("veth0\0"), at("dev"));
data.set([10, 201, 0, 2], at("saddr"));
data.set([10, 201, 0, 1], at("daddr"));
data[at("protocol")] = 6;
dv.setUint16(at("source"), 7777, false);
dv.setUint16(at("dest"), 7778, false);
data[at("flags")] = 0x12;

const js = captureDumper(cap);
let sink = 0;
t = performance.now();
for (let i = 0; i < N; i++) sink += js.dumpFormatted!(data, "text").length;
const jsText = N / ((performance.now() - t) / 1000);
t = performance.now();
for (let i = 0; i < N; i++) sink += js.dumpFormatted!(data, "json").length;
const jsJson = N / ((performance.now() - t) / 1000);

const dir = mkdtempSync(join(tmpdir(), "ipft-bench-"));
const path = join(dir, "cap.lua");
writeFileSync(
  path,
  `local m, decode = ipft.capture{ ${TEXTS.map((x) => JSON.stringify(x)).join(", ")} }\nfunction emit() return m end\ndump = decode\n`,
);
const s = Script.load(path, {
  btf: { offsetof: () => 0, sizeof: () => 0, typeof: () => "" },
  helpers: new Map([["probe_read_kernel", 113]]),
  capture: (texts) => compileCapture(texts, { btf, probeRead: 113 }),
});
const BLOCK = 4096;
const block = new Uint8Array(BLOCK * 64);
for (let i = 0; i < BLOCK; i++) block.set(data, i * 64);
s.dumpFormattedMany(block, "text");
t = performance.now();
let luaCalls = 0;
while (luaCalls < N) {
  for (const line of s.dumpFormattedMany(block, "text")) sink += (line as string).length;
  luaCalls += BLOCK;
}
const luaText = luaCalls / ((performance.now() - t) / 1000);
const sample = s.dumpFormatted(data, "text");
s.close();

// The peer: the generated decoder and the same `( k: v )` formatting in the stand-alone interpreter.
const chunk = join(dir, "chunk.lua");
writeFileSync(chunk, luaCaptureChunk(cap));
const peer = join(dir, "peer.lua");
const hex = Buffer.from(data).toString("hex");
writeFileSync(
  peer,
  `local NULL = setmetatable({}, { __tostring = function() return "null" end })
local _, decode = loadfile(${JSON.stringify(chunk)})(NULL)
local data = (${JSON.stringify(hex)}):gsub("..", function(h) return string.char(tonumber(h, 16)) end)
local function text(r) local o, n = { "( " }, 1 for k, v in pairs(r) do n = n + 1 o[n] = tostring(k) .. ": " .. tostring(v) .. " " end o[n + 1] = ")" return table.concat(o, "", 1, n + 1) end
local t = os.clock()
local sink = 0
for i = 1, ${N} do sink = sink + #text(decode(data)) end
io.write(os.clock() - t, " ", text(decode(data)))
`,
);
const r = spawnSync("lua5.3", [peer], { encoding: "utf8" });
const fmt = (n: number) => Math.round(n).toLocaleString("en");
console.log(
  `capture decoding, ${TEXTS.length} fields (${cap.used} bytes, ${cap.insns.length} instructions; compiled in ${compileMs.toFixed(1)} ms; checksum ${sink})`,
);
console.log(`  record: ${js.dumpFormatted!(data, "text")}`);
console.log(`  ipft JS decoder (--capture), text   ${fmt(jsText)} records/s`);
console.log(`  ipft JS decoder (--capture), json   ${fmt(jsJson)} records/s`);
console.log(
  `  ipft.capture Lua decoder, batched   ${fmt(luaText)} records/s (same text: ${sample === js.dumpFormatted!(data, "text")})`,
);
if (r.status === 0) {
  const [sec, ...rest] = r.stdout.split(" ");
  const peerRate = N / Number(sec);
  console.log(
    `  lua5.3 interpreter, same decoder    ${fmt(peerRate)} records/s (same text: ${rest.join(" ") === sample})`,
  );
  console.log(`  ratio JS decoder / lua5.3: ${(jsText / peerRate).toFixed(2)}x`);
  console.log(`  ratio ipft.capture batched / lua5.3: ${(luaText / peerRate).toFixed(2)}x`);
} else console.log(`  peer: lua5.3 not available (apt-get install lua5.3): ${r.error?.message ?? r.stderr}`);
