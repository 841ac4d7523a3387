// -f EXPR (and the words before --): a pcap filter (src/filter) over a copy of the packet's linear part,
// from its link-layer header where the kernel has set one that is at least an Ethernet header long, else
// from its network header (raw IP), each with its own compiled program.
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R3, R4, R5, R7, R8, R9, R10 } from "../../asm/opcodes.js";
import { ALIGN_SHIFT, type CbpfInsn, copyPacket, emitFilter } from "../../filter/index.js";
import { type Field, placeReads, readAll } from "../probe-read.js";
import type { PacketLayout } from "../skb-layout.js";
import { MODULE_STACK, SCRATCH_FILTER_M, SELECT_READS } from "../stack-layout.js";
import type { Selector, SelectorInput } from "./selector.js";

/** A pcap filter as the user wrote it, compiled for an Ethernet header and for raw IP (raw absent: the
 * filter needs a link-layer header). */
export interface PcapFilter {
  expr: string;
  ethernet: CbpfInsn[];
  raw?: CbpfInsn[];
}

export const pcapSelector: Selector = {
  name: "filter",
  flags: ["-f", "FILTER..."],
  wanted: (sel) => sel.filter !== undefined,
  needsLayout: true,
  emit: pcapTest,
};

/** The Ethernet header's length: a shorter link-layer header is not one the ethernet program can read. */
const ETH_HLEN = 14;
/** The packet copy: the module's stack, 8-aligned base; the Ethernet variant starts 2 bytes in. */
const BUF_BASE = -MODULE_STACK;
const BUF_SIZE = 248;

function pcapTest({ sel, layout, m, out }: SelectorInput): Insn[] {
  const f = sel.filter!;
  const l = layout();
  const probeRead = m.probeRead;
  const fields: Field[] = [
    { off: l.len, size: 4 },
    { off: l.data, size: 8 },
    { off: l.head, size: 8 },
    { off: l.tail, size: 4 },
    { off: l.macHeader, size: 2 },
    { off: l.networkHeader, size: 2 },
  ];
  // The record's place and the module's stack below the packet copy's start are free here.
  const { reads, slot } = placeReads(fields, { start: SELECT_READS, end: SELECT_READS + 128 });
  const s = (off: number) => slot.get(off)!;
  const p: Insn[] = [];
  p.push(...readAll(reads, R7, probeRead, out));
  p.push(
    asm.ldxMem(asm.H, R4, R10, s(l.macHeader)),
    asm.jmpImm(asm.JEQ, R4, 0xffff, "sel_raw"),
    asm.ldxMem(asm.H, R3, R10, s(l.networkHeader)),
    asm.alu64Reg(asm.SUB, R3, R4),
    asm.jmpImm(asm.JSLT, R3, ETH_HLEN, "sel_raw"),
    ...variant("ethernet", f.ethernet, l, s, probeRead, out),
    asm.label("sel_raw", asm.ldxMem(asm.H, R4, R10, s(l.networkHeader))),
  );
  if (f.raw) {
    // An offset of 0 is a network header never set (the skb's head has room before any header).
    p.push(asm.jmpImm(asm.JEQ, R4, 0, out), ...variant("raw", f.raw, l, s, probeRead, out));
  } else {
    p.push(asm.ja(out));
  }
  p.push(asm.label("sel_pcap_ok", asm.mov64Reg(R0, R0)));
  return p;
}

/** With R4 = the packet's start (an offset from head): copy, then filter; ends at sel_pcap_ok or `out`. */
function variant(
  kind: "ethernet" | "raw",
  cbpf: CbpfInsn[],
  l: PacketLayout,
  s: (off: number) => number,
  probeRead: number,
  out: string,
): Insn[] {
  const pre = kind === "ethernet" ? "sel_eth_" : "sel_ip_";
  const bufOff = BUF_BASE + ALIGN_SHIFT[kind];
  return [
    // R5 = the linear bytes from the start: tail - start, none when the start is past the tail.
    asm.ldxMem(asm.W, R5, R10, s(l.tail)),
    asm.alu64Reg(asm.SUB, R5, R4),
    asm.jmpImm(asm.JSGT, R5, 0, `${pre}avail`),
    asm.mov64Imm(R5, 0),
    // R1 = head + start; R9 = the wire length: len (counted from data) + (data - start).
    asm.label(`${pre}avail`, asm.ldxMem(asm.DW, R1, R10, s(l.head))),
    asm.alu64Reg(asm.ADD, R1, R4),
    asm.ldxMem(asm.DW, R9, R10, s(l.data)),
    asm.alu64Reg(asm.SUB, R9, R1),
    asm.ldxMem(asm.W, R0, R10, s(l.len)),
    asm.alu64Reg(asm.ADD, R9, R0),
    ...copyPacket({
      srcReg: R1,
      availReg: R5,
      bufOff,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      probeRead,
      labelPrefix: `${pre}copy_`,
    }),
    ...emitFilter(cbpf, {
      bufOff,
      bufSize: BUF_SIZE,
      capLenReg: R8,
      wireLenReg: R9,
      scratchOff: SCRATCH_FILTER_M,
      match: "sel_pcap_ok",
      nomatch: out,
      labelPrefix: pre,
    }),
  ];
}
