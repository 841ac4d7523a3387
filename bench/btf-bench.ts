// vmlinux BTF: parse time, name index, attach-point discovery (medians), next to bpftool parsing and dumping
// the same file in the same run.
//   node dist/bench/btf-bench.js [runs]
import { spawnSync } from "node:child_process";
import { Btf, discoverAttachPoints } from "../src/btf/index.js";

const PATH = process.env.IPFT_BTF ?? "/sys/kernel/btf/vmlinux";
const RUNS = Number(process.argv[2] ?? 9);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const time = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const parse: number[] = [];
const index: number[] = [];
const discover: number[] = [];
let found = "";
for (let i = 0; i < RUNS; i++) {
  let btf: Btf | undefined;
  parse.push(time(() => (btf = Btf.fromFile(PATH))));
  index.push(time(() => btf!.idsNamed("sk_buff")));
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
  const r = spawnSync("bpftool", ["btf", "dump", "file", PATH, "format", "raw"], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  if (r.error || r.status !== 0) {
    peerNote = "bpftool not available (apt-get install bpftool)";
    break;
  }
  peer.push(performance.now() - t);
}
const ipftTotal = median(parse) + median(index) + median(discover);
console.log(`vmlinux BTF (${PATH}), median of ${RUNS} runs; ${found}`);
console.log(`  ipft parse              ${median(parse).toFixed(1)} ms`);
console.log(`  ipft name index         ${median(index).toFixed(1)} ms`);
console.log(`  ipft discovery          ${median(discover).toFixed(1)} ms`);
console.log(`  ipft total              ${ipftTotal.toFixed(1)} ms`);
if (peer.length > 0) {
  console.log(
    `  bpftool btf dump (raw)  ${median(peer).toFixed(1)} ms  (parse + print every type, a process)`,
  );
  console.log(`  ratio ipft total / bpftool: ${(ipftTotal / median(peer)).toFixed(2)}x`);
} else console.log(`  peer: ${peerNote}`);
