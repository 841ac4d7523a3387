// The import graph of src/ points one way: a folder may import only folders of a lower layer (and itself).
// Lower layers know nothing of the ones above them, so there is no cycle between folders. A new folder
// must be given its layer here.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/** Higher layers may import lower ones. Same-layer folders may not import each other. */
export const LAYERS: Record<string, number> = {
  core: 0, // names and the user-error base class
  util: 0, // small tools with no dependency (phase timing)
  sys: 1, // the only FFI: syscalls, libc, Lua
  asm: 1, // eBPF instructions as values
  record: 2, // the trace record's one definition: its head and its parts (parts/: they build on asm, pcapng, sys)
  btf: 2, // BTF parsing and queries
  symbols: 2, // kallsyms, tracefs, kprobe blacklist
  identity: 2.5, // a packet's identity: its headers decoded from its bytes (record's link types), namespace names; the writers print it
  filter: 2, // pcap-filter expressions: libpcap's classic BPF translated to an eBPF block
  link: 3, // attach syscalls, one file per attach type
  ringbuf: 3, // ring buffer reader, lost counter
  program: 3, // the main program, the module ABI check, the stack layout
  explain: 4, // why a packet was dropped: a sentence per drop reason, causes told apart by place, the facts
  output: 5, // writers
  nftrace: 5, // --nft-trace: nftables' trace events on netlink, matched with drops, the trace table
  pcapng: 1, // pcapng blocks written and read (imports only core)
  features: 6, // what this kernel supports, found by trying
  capture: 6, // --capture: compile to a module, decode
  merge: 6, // --read of several files: one time line, packets matched across machines
  plan: 7, // attach-point discovery, what to trace with which backend
  script: 7, // the Lua runtime
  backends: 8, // attach units per backend
  session: 9, // a run: build, load, attach, read, write
  cli: 10, // the command line
  tools: 10, // the bundled marked-traffic sender (not part of the library)
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const folderOf = (file: string) => relative(SRC, file).split("/")[0]!;

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)"(\.{1,2}\/[^"]+)"/g)) {
    out.push(resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts")));
  }
  return out;
}

test("every folder of src/ has a layer", () => {
  const folders = new Set(sources(SRC).map(folderOf));
  const missing = [...folders].filter((f) => !(f in LAYERS) && !f.endsWith(".ts"));
  assert.deepEqual(missing, [], "give each new folder a layer in test/architecture/layers.test.ts");
  assert.ok(folders.size >= 15, `expected the whole tree, found ${folders.size} folders`);
});

/** The imports (file -> imported file, both absolute) that do not point to a lower layer. */
function upward(edges: [string, string][]): string[] {
  const bad: string[] = [];
  for (const [file, target] of edges) {
    const from = folderOf(file);
    const to = folderOf(target);
    if (to === from) continue;
    if (!(LAYERS[to]! < LAYERS[from]!))
      bad.push(
        `${relative(SRC, file)} -> ${relative(SRC, target)} (${from} ${LAYERS[from]} -> ${to} ${LAYERS[to]})`,
      );
  }
  return bad;
}

test("imports point only to lower layers (no cycle between folders)", () => {
  const edges = sources(SRC).flatMap((f) => imports(f).map((t): [string, string] => [f, t]));
  const between = edges.filter(([a, b]) => folderOf(a) !== folderOf(b));
  assert.ok(between.length > 100, `the scan found only ${between.length} imports between folders`);
  assert.deepEqual(upward(edges), []);
});

test("an upward or same-layer import is reported", () => {
  const at = (p: string) => join(SRC, p);
  assert.deepEqual(upward([[at("btf/btf.ts"), at("session/run.ts")]]), [
    "btf/btf.ts -> session/run.ts (btf 2 -> session 9)",
  ]);
  assert.equal(upward([[at("link/kprobe.ts"), at("program/main-program.ts")]]).length, 1, "same layer");
  assert.deepEqual(upward([[at("session/run.ts"), at("btf/btf.ts")]]), []);
});
