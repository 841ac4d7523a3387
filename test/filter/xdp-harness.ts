// The translated filter inside a real program, run by the kernel with BPF_PROG_TEST_RUN.
//
// Program type: XDP. Its BPF_PROG_TEST_RUN takes any packet bytes as they are (no Ethernet parsing of the
// input, unlike SCHED_CLS, which needs an Ethernet header and so cannot take raw-IP packets), its context
// gives the packet's start and end, and it has bpf_probe_read_kernel (bpf_base_func_proto, for a loader
// with CAP_PERFMON). The kernel wants at least an Ethernet header's worth of input, so every packet is
// sent behind PREFIX bytes that the program skips. The program then does what ipft's will: copies the
// packet's first BUF_SIZE bytes into a stack buffer with bpf_probe_read_kernel (copyPacket), runs the
// translated block over it (emitFilter), and returns XDP_PASS (2) for a match, XDP_DROP (1) otherwise.
import { asm, encode, type Insn } from "../../src/asm/index.js";
import { R0, R1, R2, R3, R6, R7, R8, R9 } from "../../src/asm/opcodes.js";
import { type CbpfInsn, copyPacket, emitFilter, SCRATCH_SIZE } from "../../src/filter/index.js";
import { close, loadProgram, testRun } from "../../src/sys/bpf.js";
import { Helper, ProgType } from "../../src/sys/bpf-abi.js";

export const PREFIX = 16;
export const BUF_SIZE = 256;
export const SCRATCH_OFF = -SCRATCH_SIZE;
/** 8-aligned; the packet starts `shift` bytes past it (ALIGN_SHIFT, or any other to test misaligned loads). */
export const BUF_BASE = SCRATCH_OFF - BUF_SIZE - 8;
export const MATCH = 2;
export const NOMATCH = 1;

/** The whole XDP program around one filter block. */
export function xdpProgram(cbpf: CbpfInsn[], shift: number): Insn[] {
  const BUF_OFF = BUF_BASE + shift;
  return [
    asm.mov64Reg(R6, R1),
    asm.ldxMem(asm.W, R2, R6, 0), // xdp_md.data
    asm.ldxMem(asm.W, R3, R6, 4), // xdp_md.data_end
    asm.mov64Reg(R9, R3),
    asm.alu64Reg(asm.SUB, R9, R2),
    asm.alu64Imm(asm.ADD, R9, -PREFIX), // the wire length: all of the packet after the prefix
    asm.mov64Reg(R7, R2),
    asm.alu64Imm(asm.ADD, R7, PREFIX),
    ...copyPacket({
      srcReg: R7,
      availReg: R9,
      bufOff: BUF_OFF,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      probeRead: Helper.probe_read_kernel,
    }),
    ...emitFilter(cbpf, {
      bufOff: BUF_OFF,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      wireLenReg: R9,
      scratchOff: SCRATCH_OFF,
      match: "match",
      nomatch: "nomatch",
    }),
    asm.label("match", asm.mov64Imm(R0, MATCH)),
    asm.exit(),
    asm.label("nomatch", asm.mov64Imm(R0, NOMATCH)),
    asm.exit(),
  ];
}

export class LoadedFilter {
  readonly fd: number;
  readonly insnCount: number;
  private readonly frame = new Uint8Array(PREFIX + 4096);
  constructor(cbpf: CbpfInsn[], name: string, shift: number) {
    const code = encode(xdpProgram(cbpf, shift));
    this.insnCount = code.length / 8;
    const r = loadProgram({ type: ProgType.XDP, insns: code, name });
    if (r.fd < 0)
      throw new Error(`the verifier rejected the filter (errno ${r.errno}):\n${r.log.slice(-3000)}`);
    this.fd = r.fd;
  }
  /** The kernel's verdict on a packet: true for a match. */
  run(packet: Uint8Array): boolean {
    this.frame.set(packet, PREFIX);
    const r = testRun(this.fd, this.frame.subarray(0, PREFIX + packet.length));
    if (r.retval !== MATCH && r.retval !== NOMATCH) throw new Error(`the program returned ${r.retval}`);
    return r.retval === MATCH;
  }
  close(): void {
    close(this.fd);
  }
}
