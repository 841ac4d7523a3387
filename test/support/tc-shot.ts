// A tc or XDP program that drops every packet, for the kernel tests of tc and XDP drops
// (test/kernel/explain.test.ts). Run as a program: `node tc-shot.js PATH` loads a two-instruction sched_cls
// program named ipft_shot that returns TC_ACT_SHOT and pins it at PATH (on a bpf file system), for
// `tc filter add dev DEV ingress bpf object-pinned PATH direct-action`; `node tc-shot.js PATH xdp` an XDP
// program named ipft_xdp_drop that returns XDP_DROP, for `ip link set dev DEV xdpgeneric pinned PATH`.
// No compiler needed: ipft's own bpf(2) calls load it.

import { loadProgram } from "../../src/sys/bpf.js";
import { ATTR_SIZE } from "../../src/sys/bpf-abi.js";
import { addressOf, bpfTry, keepAlive } from "../../src/sys/libc.js";

const SCHED_CLS = 3; // BPF_PROG_TYPE_SCHED_CLS
const OBJ_PIN = 6; // BPF_OBJ_PIN
const TC_ACT_SHOT = 2;
const XDP = 6; // BPF_PROG_TYPE_XDP
const XDP_DROP = 1;

const [path, kind] = process.argv.slice(2);
if (!path || (kind !== undefined && kind !== "xdp")) {
  process.stderr.write("usage: tc-shot PATH [xdp]\n");
  process.exit(2);
}
const xdp = kind === "xdp";
// r0 = TC_ACT_SHOT (XDP_DROP); exit
const insns = Buffer.alloc(16);
insns.writeUInt8(0xb7, 0); // BPF_ALU64 | BPF_MOV | BPF_K, dst r0
insns.writeInt32LE(xdp ? XDP_DROP : TC_ACT_SHOT, 4);
insns.writeUInt8(0x95, 8); // BPF_JMP | BPF_EXIT
const prog = loadProgram(
  xdp ? { type: XDP, insns, name: "ipft_xdp_drop" } : { type: SCHED_CLS, insns, name: "ipft_shot" },
);
if (prog.fd < 0) {
  process.stderr.write(`tc-shot: loading failed (errno ${prog.errno}) ${prog.log}\n`);
  process.exit(1);
}
const name = Buffer.from(`${path}\0`);
const attr = Buffer.alloc(ATTR_SIZE);
attr.writeBigUInt64LE(addressOf(name), 0); // pathname
attr.writeUInt32LE(prog.fd, 8); // bpf_fd
const r = bpfTry(OBJ_PIN, attr);
keepAlive(name, attr);
if (r < 0) {
  process.stderr.write(`tc-shot: pinning at ${path} failed (errno ${-r})\n`);
  process.exit(1);
}
