// vmlinux BTF: read + parse, name index, attach-point discovery (medians of N runs, and the first run, which
// includes JIT warm-up), next to bpftool parsing and printing the same file in the same run.
//   node dist/bench/btf-bench.js [runs]
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Btf } from "../src/btf/index.js";
import { discoverAttachPoints } from "../src/plan/attach-points.js";

const PATH = process.env.IPFT_BTF || "/sys/kernel/btf/vmlinux";
const RUNS = Math.max(1, Number(process.argv[2] ?? 15));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const time = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const bytes = readFileSync(PATH);
const load: number[] = [];
const parse: number[] = [];
const index: number[] = [];
const query: number[] = [];
const discover: number[] = [];
let found = "";
let types = 0;
for (let i = 0; i < RUNS; i++) {
  let btf: Btf | undefined;
  load.push(time(() => Btf.fromFile(PATH)));
  parse.push(time(() => (btf = Btf.fromBytes(bytes))));
  types = btf!.typeCount;
  index.push(time(() => btf!.idsNamed("sk_buff")));
  query.push(
    time(() => {
      btf!.offsetof("sk_buff", "mark");
      btf!.sizeof("skb_shared_info");
      btf!.enumValues("bpf_func_id");
    }),
  );
  discover.push(
    time(() => {
      const pts = discoverAttachPoints(btf!, "vmlinux");
      const f = pts.filter((p) => p.kind === "function").length;
      found = `${f} functions, ${pts.length - f} tracepoints`;
    }),
  );
}

const peer: number[] = [];
let peerNote = "";
for (let i = 0; i < Math.min(RUNS, 5); i++) {
  const t = performance.now();
  // Same as `bpftool btf dump file PATH format raw > /dev/null`.
  const r = spawnSync("bpftool", ["btf", "dump", "file", PATH, "format", "raw"], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  if (r.error || r.status !== 0) {
    peerNote = "bpftool not available (apt-get install -y bpftool)";
    break;
  }
  peer.push(performance.now() - t);
}

const row = (label: string, xs: number[]) =>
  console.log(
    `  ${label.padEnd(34)} ${median(xs).toFixed(1).padStart(7)} ms   first ${xs[0]!.toFixed(1)} ms`,
  );
const total = median(load) + median(index) + median(discover);
console.log(`vmlinux BTF ${PATH}: ${(bytes.length / 1e6).toFixed(1)} MB, ${types} types; ${found}`);
console.log(`median of ${RUNS} runs (node ${process.version})`);
row("ipft read file + parse", load);
row("ipft parse (bytes in memory)", parse);
row("ipft name index + first lookup", index);
row("ipft offsetof/sizeof/enumValues", query);
row("ipft discovery", discover);
console.log(`  ${"ipft total (read, index, discover)".padEnd(34)} ${total.toFixed(1).padStart(7)} ms`);
if (peer.length > 0) {
  console.log(
    `  ${"bpftool btf dump format raw".padEnd(34)} ${median(peer).toFixed(1).padStart(7)} ms   (${peer.length} runs)`,
  );
  console.log(`  ratio ipft total / bpftool: ${(total / median(peer)).toFixed(2)}x`);
} else console.log(`  peer: ${peerNote}`);
