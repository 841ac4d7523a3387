// pcap-filter expressions: libpcap's compile (pcap_compile, optimiser on) and the translation into an eBPF
// block, in milliseconds (medians of N runs), with the classic and eBPF instruction counts per link type.
//   node dist/bench/filter-bench.js [runs]
import { asm, encode } from "../src/asm/index.js";
import { R8, R9 } from "../src/asm/opcodes.js";
import {
  ALIGN_SHIFT,
  type CbpfInsn,
  compilePcapFilter,
  emitFilter,
  type LinkType,
  SCRATCH_SIZE,
} from "../src/filter/index.js";

const RUNS = Math.max(1, Number(process.argv[2] ?? 21));

const EXPRESSIONS = [
  "tcp",
  "udp",
  "icmp",
  "ip6",
  "tcp and dst port 80",
  "host 10.0.0.1",
  "src host 10.0.0.2 and not dst host 192.168.1.5",
  "net 192.168.0.0/16",
  "dst net 10.0.0.0/8 and udp",
  "port 53",
  "portrange 1000-2000",
  "udp dst portrange 53-54",
  "tcp src port 22 or udp src port 67",
  "(tcp or udp) and not port 22",
  "tcp[tcpflags] & tcp-syn != 0",
  "tcp[13] & 2 != 0",
  "icmp[icmptype] == icmp-echo",
  "icmp6",
  "ip6 and tcp port 443",
  "host 2001:db8::1",
  "ip proto 47",
  "ip[2:2] > 100",
  "len > 100",
  "greater 64",
  "less 128",
  "vlan",
  "vlan 100 and udp",
  "ether host 02:00:00:00:00:01",
  "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
  "host 10.0.0.1 and (tcp port 80 or tcp port 443 or udp port 53) and not net 192.168.0.0/16",
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const time = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const spec = {
  bufOff: -SCRATCH_SIZE - 256 - 8,
  bufSize: 256,
  capLenReg: R8,
  wireLenReg: R9,
  scratchOff: -SCRATCH_SIZE,
  match: "match",
  nomatch: "nomatch",
};

/** The block encoded (its jumps resolved, the caller's two labels stubbed); its length in instructions. */
const tail = [asm.label("match", asm.exit()), asm.label("nomatch", asm.exit())];
const block = (cbpf: CbpfInsn[], linktype: LinkType) =>
  encode([...emitFilter(cbpf, { ...spec, bufOff: spec.bufOff + ALIGN_SHIFT[linktype] }), ...tail]).length /
    8 -
  tail.length;

interface Row {
  expr: string;
  compile: number;
  translate: number;
  counts: Partial<Record<LinkType, [number, number]>>;
}

const rows: Row[] = [];
for (const expr of EXPRESSIONS) {
  const row: Row = { expr, compile: 0, translate: 0, counts: {} };
  const compile: number[] = [];
  const translate: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let cbpf = compilePcapFilter(expr, { linktype: "ethernet" }).cbpf;
    compile.push(time(() => (cbpf = compilePcapFilter(expr, { linktype: "ethernet" }).cbpf)));
    translate.push(time(() => block(cbpf, "ethernet")));
  }
  row.compile = median(compile);
  row.translate = median(translate);
  for (const linktype of ["ethernet", "raw"] as LinkType[]) {
    try {
      const cbpf = compilePcapFilter(expr, { linktype }).cbpf;
      row.counts[linktype] = [cbpf.length, block(cbpf, linktype)];
    } catch {
      // Link-layer filters (vlan, ether) do not compile for raw IP.
    }
  }
  rows.push(row);
}

const w = Math.max(...rows.map((r) => r.expr.length));
const counts = (c: [number, number] | undefined) => (c ? `${c[0]} → ${c[1]}` : "-").padStart(10);
console.log(`filter compile + translate, medians of ${RUNS} runs (ms); instructions classic → eBPF block`);
console.log(
  `${"expression".padEnd(w)}  ${"compile".padStart(8)}  ${"translate".padStart(9)}  ${"ethernet".padStart(10)}  ${"raw".padStart(10)}`,
);
for (const r of rows)
  console.log(
    `${r.expr.padEnd(w)}  ${r.compile.toFixed(3).padStart(8)}  ${r.translate.toFixed(3).padStart(9)}  ${counts(r.counts.ethernet)}  ${counts(r.counts.raw)}`,
  );
const sum = (f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0);
const blocks = rows.flatMap((r) => Object.values(r.counts).map((c) => c[1]));
console.log(
  `total (${rows.length} expressions): compile ${sum((r) => r.compile).toFixed(2)} ms, translate ${sum((r) => r.translate).toFixed(2)} ms; eBPF block: ${Math.min(...blocks)}..${Math.max(...blocks)} instructions, mean ${(blocks.reduce((a, b) => a + b, 0) / blocks.length).toFixed(1)}`,
);
