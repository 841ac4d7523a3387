// Bad input of every kind: each gets one clear line, a non-zero exit, and leaves nothing in the kernel.
// The same table is printed in docs/troubleshooting.md.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { MemorySink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";

export interface Case {
  name: string;
  args: string[];
  status: number;
  /** The first line ipft prints on stderr (after its progress lines). */
  line: RegExp;
  env?: NodeJS.ProcessEnv;
  /** Runs the command under another program (setpriv, unshare). */
  wrap?: string[];
  /** What stderr must not say (a hint that does not apply). */
  absent?: RegExp;
  /** Only on kernels where this backend is missing. */
  needsMissing?: string;
}

const dir = mkdtempSync(join(tmpdir(), "ipft-robust-"));
function lua(name: string, code: string): string {
  const p = join(dir, `${name}.lua`);
  writeFileSync(p, code);
  return p;
}
function file(name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}
const emit = (name: string, body: string) =>
  lua(name, `function emit()\n  return BPF.emit({ ${body} })\nend\n`);

const S = {
  syntax: lua("syntax", "function emit(\n  return 1\nend\n"),
  initErr: lua("init-error", 'function init()\n  error("init broke")\nend\n'),
  emitErr: lua("emit-error", 'function emit()\n  error("emit broke")\nend\n'),
  finiErr: lua("fini-error", 'function fini()\n  error("fini broke")\nend\n'),
  emitNil: lua("emit-nil", "function emit() return nil end\n"),
  emitNum: lua("emit-number", "function emit() return 42 end\n"),
  emitOdd: lua("emit-odd", 'function emit() return "1234567" end\n'),
  emitHuge: lua("emit-huge", "function emit() return string.rep(BPF.MOV64_IMM(BPF.R0, 0), 1000001) end\n"),
  exit: emit("exit", "BPF.MOV64_IMM(BPF.R0, 0), BPF.EXIT_INSN()"),
  stack: emit("stack", "BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R1, -264)"),
  data: emit("data", "BPF.ST_MEM(BPF.DW, BPF.R1, 60, 0)"),
  r10: emit("r10", "BPF.ALU64_IMM(BPF.ADD, BPF.R10, -8)"),
  jump: emit("jump", "BPF.JMP_IMM(BPF.JEQ, BPF.R0, 0, 5)"),
  r7: emit("r7", "BPF.JMP_IMM(BPF.JEQ, BPF.R2, 0, 1), BPF.MOV64_IMM(BPF.R7, 1)"),
  lddw: lua("lddw", "function emit() return BPF.RAW_INSN(0x18, 0, 0, 0, 1) end\n"),
  helper: emit("helper", "BPF.CALL_INSN(9)"), // bpf_skb_store_bytes: not for tracing programs
  kfunc: emit("kfunc", "BPF.RAW_INSN(0x85, 0, 2, 0, 1)"),
  verifier: emit("verifier", "BPF.LDX_MEM(BPF.DW, BPF.R0, BPF.R5, 0)"),
  macro: lua("macro", "function emit()\n  local x = BPF.MOV64_IMM(BPF.R0, 0x100000000)\n  return x\nend\n"),
  query: lua(
    "query",
    'function emit()\n  local x = ipft.offsetof("sk_buff", "no_such_member")\n  return ""\nend\n',
  ),
};
const badBtf = file("bad-btf", "not btf at all");
/** A pcapng file another tool wrote: one Ethernet frame, no "ipft:" comment. */
function foreignPcapng(): Uint8Array {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "another capture tool" });
  const id = w.interfaceFor({ name: "eth0", netns: 0, linktype: 1 });
  writePacket(w, { interfaceId: id, timestampNs: 1_700_000_000_000_000_000n, data: new Uint8Array(60) });
  w.close();
  return sink.bytes();
}
const notPcapng = file("not.pcapng", "these are not the blocks you are looking for\n");
const foreign = file("foreign.pcapng", foreignPcapng());
const cutBtf = file(
  "cut-btf",
  new Uint8Array(Buffer.concat([Buffer.from([0x9f, 0xeb, 1, 0, 24, 0, 0, 0]), Buffer.alloc(16, 0xff)])),
);

const NOBODY = [
  "setpriv",
  "--inh-caps=-all",
  "--ambient-caps=-all",
  "--bounding-set=-all",
  "--reuid=65534",
  "--regid=65534",
  "--clear-groups",
];

export const CASES: Case[] = [
  // The command line (exit 2).
  { name: "no mark", args: [], status: 2, line: /^ipft: -m MARK is required to trace/ },
  { name: "mark 0", args: ["-m", "0"], status: 2, line: /^ipft: -m: 0 would match every unmarked packet/ },
  {
    name: "mark above 32 bits",
    args: ["-m", "0x100000000"],
    status: 2,
    line: /^ipft: -m: 0x100000000 does not fit in 32 bits/,
  },
  { name: "mark not a number", args: ["-m", "ten"], status: 2, line: /^ipft: -m: "ten" is not a number/ },
  { name: "mark missing its value", args: ["-m"], status: 2, line: /^ipft: -m needs a value/ },
  {
    name: "mask 0",
    args: ["-m", "1", "--mask", "0"],
    status: 2,
    line: /^ipft: --mask: a mask of 0 matches every packet/,
  },
  {
    name: "mask without any bit of the mark",
    args: ["-m", "0x2a", "--mask", "0xf00"],
    status: 2,
    line: /^ipft: --mask 0xf00 keeps no bit of -m 0x2a \(mark & mask == 0\)/,
  },
  {
    name: "mask above 32 bits",
    args: ["-m", "1", "--mask", "0x1ffffffff"],
    status: 2,
    line: /^ipft: --mask: .* does not fit in 32 bits/,
  },
  {
    name: "bad regex",
    args: ["-m", "1", "-r", "("],
    status: 2,
    line: /^ipft: -r: invalid regular expression "\("/,
  },
  {
    name: "bad module regex",
    args: ["-m", "1", "--module-regex", "["],
    status: 2,
    line: /^ipft: --module-regex: invalid regular expression/,
  },
  {
    name: "unknown backend",
    args: ["-m", "1", "-b", "uprobe"],
    status: 2,
    line: /^ipft: -b: unknown value "uprobe" \(choose one of: kprobe, kprobe-multi, ftrace, tracepoint\)/,
  },
  {
    name: "unknown tracer",
    args: ["-m", "1", "-t", "graph"],
    status: 2,
    line: /^ipft: -t: unknown value "graph"/,
  },
  {
    name: "unknown output",
    args: ["-m", "1", "-o", "xml"],
    status: 2,
    line: /^ipft: -o: unknown value "xml"/,
  },
  {
    name: "unknown --gen target",
    args: ["--gen", "all", "-s", S.exit],
    status: 2,
    line: /^ipft: --gen: unknown value "all"/,
  },
  {
    name: "ring size not a power of two",
    args: ["-m", "1", "--ring-size", "3000"],
    status: 2,
    line: /^ipft: --ring-size: 3000 must be a power of two/,
  },
  {
    name: "drops memory below 1M",
    args: ["-m", "1", "--drops", "--drops-memory", "64k"],
    status: 2,
    line: /^ipft: --drops-memory: 64k must be from 1M to 2G$/,
  },
  {
    name: "drops memory without --drops",
    args: ["-m", "1", "--drops-memory", "256M"],
    status: 2,
    line: /^ipft: --drops-memory bounds what --drops holds: it goes with --drops$/,
  },
  {
    name: "max traces 0",
    args: ["-m", "1", "--max-traces", "0"],
    status: 2,
    line: /^ipft: --max-traces: "0" is not a positive whole number/,
  },
  {
    name: "unknown option",
    args: ["--frobnicate"],
    status: 2,
    line: /^ipft: unknown option --frobnicate \(see ipft --help\)/,
  },
  {
    name: "stray argument",
    args: ["-m", "1", "ping"],
    status: 2,
    line: /^ipft: bad packet filter "ping": .*syntax error \(to run a command, put it after --\)$/,
  },
  {
    name: "bad packet filter",
    args: ["-f", "udp port 99999"],
    status: 2,
    line: /^ipft: bad packet filter "udp port 99999": illegal port number 99999 > 65535$/,
  },
  {
    name: "unknown network namespace",
    args: ["--netns", "ipft-no-such-ns"],
    status: 2,
    line: /^ipft: --netns ipft-no-such-ns: no such namespace \(give a name from ip netns list/,
  },
  {
    name: "netns path that is no namespace",
    args: ["--netns", "/etc/hostname"],
    status: 2,
    line: /^ipft: --netns \/etc\/hostname: \/etc\/hostname is not a namespace file/,
  },
  {
    name: "device name too long",
    args: ["--ifname", "a-name-longer-than-15"],
    status: 2,
    line: /^ipft: --ifname: "a-name-longer-than-15" is not a device name \(at most 15 characters/,
  },
  {
    name: "conflicting modes",
    args: ["-l", "--features"],
    status: 2,
    line: /^ipft: choose one of -l, --features, --test, --gen and --read/,
  },
  {
    name: "function_graph with tracepoints",
    args: ["-m", "1", "-t", "function_graph", "-b", "tracepoint"],
    status: 2,
    line: /^ipft: -t function_graph needs -b ftrace/,
  },
  {
    name: "-- without a command",
    args: ["-m", "1", "--"],
    status: 2,
    line: /^ipft: --: expected a command after --/,
  },
  {
    name: "--gen module without a script",
    args: ["--gen", "module"],
    status: 2,
    line: /^ipft: --gen module needs a script/,
  },
  {
    name: "empty capture",
    args: ["-m", "1", "--capture", " "],
    status: 2,
    line: /^ipft: --capture: give an expression, e\.g\. --capture 'skb->len'/,
  },
  {
    name: "capture syntax error",
    args: ["-m", "1", "-c", "skb->"],
    status: 2,
    line: /^ipft: -c "skb->": expected a member name but found the end/,
  },
  {
    name: "capture cut at > by the shell",
    args: ["-m", "1", "-c", "skb-"],
    status: 2,
    line: /^ipft: -c "skb-": the expression was cut at ">" by the shell .*quote it, e\.g\. -c 'skb->len'/,
  },
  {
    // tcpdump's -c COUNT habit: -c is --capture, and a number is never something to capture.
    name: "capture of a number (-c 5 as a packet count)",
    args: ["-c", "5", "icmp"],
    status: 2,
    line: /^ipft: -c "5": a number is not something to capture \(-c is --capture, e\.g\. -c 'skb->len', not a packet count\)$/,
  },
  {
    name: "capture with a script",
    args: ["-m", "1", "-c", "skb->len", "-s", S.exit],
    status: 2,
    line: /^ipft: --capture and -s both make the module: use ipft.capture\{\} inside the script instead/,
  },
  {
    name: "capture with -l",
    args: ["-l", "-c", "skb->len"],
    status: 2,
    line: /^ipft: --capture only goes with tracing, --test and --gen/,
  },
  // What to trace (exit 1).
  {
    name: "regex matching nothing",
    args: ["-m", "1", "-r", "^no_such_function$"],
    status: 1,
    line: /^ipft: no attach point matches the filters/,
  },
  {
    name: "regex matching only functions, with -b tracepoint",
    args: ["-m", "1", "-b", "tracepoint", "-r", "^ip_rcv$"],
    status: 1,
    line: /^ipft: ip_rcv is a kernel function and -b tracepoint attaches only tracepoints$/,
  },
  {
    name: "module regex matching nothing",
    args: ["-m", "1", "--module-regex", "^no_such_module$"],
    status: 1,
    line: /^ipft: no attach point matches the filters/,
  },
  {
    name: "kprobe backend missing",
    args: ["-m", "1", "-b", "kprobe"],
    status: 1,
    line: /^ipft: backend kprobe is not supported here: /,
    needsMissing: "kprobe",
  },
  {
    name: "ftrace backend missing",
    args: ["-m", "1", "-b", "ftrace"],
    status: 1,
    line: /^ipft: backend ftrace is not supported here: /,
    needsMissing: "ftrace",
  },
  // Scripts (exit 1).
  {
    name: "script missing",
    args: ["-m", "1", "-s", "/nonexistent/script.lua"],
    status: 1,
    line: /^ipft: script \/nonexistent\/script.lua does not exist/,
  },
  {
    name: "script is a directory",
    args: ["-m", "1", "-s", dir],
    status: 1,
    line: /^ipft: script .* is a directory/,
  },
  {
    name: "script syntax error",
    args: ["-m", "1", "-s", S.syntax],
    status: 1,
    line: /^ipft: script .*syntax\.lua:2: /,
  },
  {
    name: "init() raises",
    args: ["-m", "1", "-s", S.initErr],
    status: 1,
    line: /^ipft: init\(\) failed: .*init-error\.lua:2: init broke/,
  },
  {
    name: "emit() raises",
    args: ["-m", "1", "-s", S.emitErr],
    status: 1,
    line: /^ipft: emit\(\) failed: .*emit-error\.lua:2: emit broke/,
  },
  {
    name: "fini() raises",
    args: ["-m", "1", "-s", S.finiErr, "--", "true"],
    status: 1,
    line: /fini\(\) failed: .*fini-error\.lua:2: fini broke/,
  },
  {
    name: "emit() returns nil",
    args: ["-m", "1", "-s", S.emitNil],
    status: 1,
    line: /^ipft: emit\(\) failed: emit\(\) must return a string of eBPF bytecode, got nil/,
  },
  { name: "emit() returns a number", args: ["-m", "1", "-s", S.emitNum], status: 1, line: /got number/ },
  {
    name: "module length not a multiple of 8",
    args: ["-m", "1", "-s", S.emitOdd],
    status: 1,
    line: /^ipft: the module is 7 bytes, not a whole number of 8-byte instructions/,
  },
  {
    name: "module beyond the instruction limit",
    args: ["-m", "1", "-s", S.emitHuge],
    status: 1,
    line: /^ipft: the module has 1000001 instructions; the kernel takes at most/,
  },
  {
    name: "macro operand out of range",
    args: ["-m", "1", "-s", S.macro],
    status: 1,
    line: /macro\.lua:2: BPF\.MOV64_IMM: immediate 4294967296 does not fit in 32 bits/,
  },
  {
    name: "unknown struct member",
    args: ["-m", "1", "-s", S.query],
    status: 1,
    line: /query\.lua:2: struct sk_buff has no member "no_such_member"/,
  },
  // The ABI guard (exit 1).
  {
    name: "guard: exit",
    args: ["-m", "1", "-s", S.exit],
    status: 1,
    line: /^ipft: module instruction 1 \(`exit`\): `exit` is not allowed/,
  },
  {
    name: "guard: stack R10-264",
    args: ["-m", "1", "-s", S.stack],
    status: 1,
    line: /^ipft: module instruction 0 .*outside the module's 256 bytes/,
  },
  {
    name: "guard: data area overflow",
    args: ["-m", "1", "-s", S.data],
    status: 1,
    line: /outside the 64-byte data area/,
  },
  {
    name: "guard: R10 written",
    args: ["-m", "1", "-s", S.r10],
    status: 1,
    line: /R10 is the read-only frame pointer/,
  },
  {
    name: "guard: jump past the end",
    args: ["-m", "1", "-s", S.jump],
    status: 1,
    line: /jump to 6 leaves the module/,
  },
  {
    name: "guard: R7 clobbered",
    args: ["-m", "1", "-s", S.r7],
    status: 1,
    line: /module instruction 1 \(`r7 = 1`\): r7 does not hold the caller's value/,
  },
  {
    name: "guard: LD_IMM64 cut",
    args: ["-m", "1", "-s", S.lddw],
    status: 1,
    line: /64-bit immediate load cut off/,
  },
  {
    name: "guard: helper not allowed",
    args: ["-m", "1", "-s", S.helper],
    status: 1,
    line: /helper bpf_skb_store_bytes is not allowed/,
  },
  {
    name: "guard: kernel function call",
    args: ["-m", "1", "-s", S.kfunc],
    status: 1,
    line: /only helper calls are allowed/,
  },
  {
    name: "verifier rejects the module",
    args: ["-m", "1", "-s", S.verifier],
    status: 1,
    line: /^ipft: the kernel verifier rejected the program for \S+ \(EACCES\)/,
  },
  {
    name: "--gen module with a guard breach",
    args: ["--gen", "module", "-s", S.exit],
    status: 1,
    line: /`exit` is not allowed/,
  },
  {
    name: "--gen program with a guard breach",
    args: ["--gen", "program", "-s", S.stack],
    status: 1,
    line: /outside the module's 256 bytes/,
  },
  {
    name: "--test with a guard breach",
    args: ["--test", "-s", S.r7],
    status: 1,
    line: /r7 does not hold the caller's value/,
  },
  {
    name: "--test with a verifier rejection",
    args: ["--test", "-s", S.verifier],
    status: 1,
    line: /the kernel verifier rejected the program/,
  },
  // The machine (exit 1).
  {
    name: "not root",
    args: ["-m", "1"],
    wrap: NOBODY,
    status: 1,
    line: /^ipft: ipft needs root \(or CAP_BPF and CAP_PERFMON\)/,
  },
  {
    name: "--test not root",
    args: ["--test", "-m", "1"],
    wrap: NOBODY,
    status: 1,
    line: /^ipft: ipft needs root/,
  },
  {
    name: "BTF missing",
    args: ["-m", "1"],
    env: { IPFT_BTF: "/nonexistent/vmlinux" },
    status: 1,
    line: /^ipft: no BTF at \/nonexistent\/vmlinux: this kernel was built without CONFIG_DEBUG_INFO_BTF/,
  },
  {
    name: "BTF not BTF",
    args: ["-l"],
    env: { IPFT_BTF: badBtf },
    status: 1,
    line: /is not BTF \(bad magic or too short\)/,
  },
  { name: "BTF truncated", args: ["-l"], env: { IPFT_BTF: cutBtf }, status: 1, line: /is truncated/ },
  {
    name: "kallsyms unreadable",
    args: ["-m", "1"],
    env: { IPFT_KALLSYMS: "/nonexistent/kallsyms" },
    status: 1,
    line: /^ipft: cannot read \/nonexistent\/kallsyms: ENOENT/,
  },
  // Captures the kernel's types refuse (exit 1).
  {
    name: "capture of a member that does not exist",
    args: ["-m", "1", "-c", "skb->dev->nosuch"],
    status: 1,
    line: /^ipft: capture "skb->dev->nosuch": skb->dev: struct net_device has no member "nosuch"/,
  },
  {
    name: "captures larger than 64 bytes",
    args: [
      "-m",
      "1",
      "-c",
      "a=skb->dev->name",
      "-c",
      "b=skb->dev->name",
      "-c",
      "c=skb->dev->name",
      "-c",
      "d=skb->dev->name",
    ],
    status: 1,
    line: /^ipft: the captures take 65 bytes but a trace carries 64 \(1 for the null bitmap, a 16, b 16, c 16, d 16\)/,
  },
  {
    name: "capture format that does not fit the type",
    args: ["-m", "1", "-c", "skb->len:ip6"],
    status: 1,
    line: /^ipft: capture "skb->len:ip6": format ip6 needs 16 bytes, but unsigned int has 4/,
  },
  // -w and --read.
  {
    name: "-w into a directory that does not exist",
    args: ["-m", "1", "-w", "/nonexistent/dir/trace.pcapng"],
    status: 1,
    line: /^ipft: cannot write the pcapng file \/nonexistent\/dir\/trace\.pcapng: its directory does not exist$/,
  },
  {
    name: "-w onto a directory",
    args: ["-m", "1", "-w", dir],
    status: 1,
    line: /^ipft: cannot write the pcapng file .*: it is a directory$/,
  },
  {
    name: "-w with --test",
    args: ["--test", "-w", join(dir, "t.pcapng")],
    status: 2,
    line: /^ipft: -w only goes with tracing/,
  },
  {
    name: "--read of a file that is not pcapng",
    args: ["--read", notPcapng],
    status: 1,
    line: /^ipft: .*not\.pcapng is not a pcapng file: it starts with 74 68 65 73, a pcapng file with 0a 0d 0d 0a$/,
  },
  {
    name: "--read of a pcapng file ipft did not write",
    args: ["--read", foreign],
    status: 1,
    line: /^ipft: .*foreign\.pcapng was not written by ipft -w \(its section has no "ipft:" comment\); open it with Wireshark or tshark instead$/,
  },
  {
    name: "--read of a missing file",
    args: ["--read", "/nonexistent/trace.pcapng"],
    status: 1,
    line: /^ipft: cannot read the pcapng file \/nonexistent\/trace\.pcapng: no such file$/,
  },
  {
    name: "--read with tracing options",
    args: ["--read", foreign, "-m", "1", "-s", "x.lua"],
    status: 2,
    line: /^ipft: --read prints a saved trace: -m, -s are for tracing/,
  },
  {
    name: "command not found",
    args: ["-m", "1", "--", "/nonexistent/command"],
    status: 127,
    line: /^ipft: cannot run \/nonexistent\/command: command not found/,
    // No traffic was made: asking whether the mark is set would send the user the wrong way.
    absent: /no packet with mark|Is the mark set/,
  },
];
