// Packet filters in tcpdump's language (pcap-filter(7)), as pwru takes them: compiled by libpcap into
// classic BPF, then translated into a block of eBPF that a tracing program inlines.
//
// How a tracing program uses it (the one register and stack contract, see translate.ts and packet.ts):
//
//   const eth = compilePcapFilter(expr, { linktype: "ethernet" });
//   const raw = compilePcapFilter(expr, { linktype: "raw" });      // throws for link-layer filters
//   const bufOff = base + ALIGN_SHIFT.ethernet;   // base 8-aligned; bufOff + bufSize <= the area's end
//   insns.push(
//     ...copyPacket({ srcReg, availReg, bufOff, bufSize, capLenReg: R8, probeRead }),  // clobbers R0-R5
//     // R9 = the packet's length on the wire
//     ...emitFilter(eth.cbpf, { bufOff, bufSize, capLenReg: R8, wireLenReg: R9, scratchOff,
//                               match: "keep", nomatch: "drop", labelPrefix: "eth_" }),  // clobbers R0-R3
//   );
//
// Stack: the buffer (bufSize bytes from bufOff) and SCRATCH_SIZE (64) bytes of scratch; one buffer and one
// scratch area serve both blocks, since one packet runs through one of them. In ipft's main program the
// filter runs before the module, so the buffer can be the module's stack (R10-256 .. R10-1: base -256,
// bufSize 248) and the scratch the free part of the reserved area (e.g. R10-464 .. R10-401).
// Verifier: the block is loop-free and small (tens of instructions, about 2.5 eBPF per classic one); the
// packet copy is one helper call. Within the block, variable-offset stack reads (classic X + k loads)
// need a privileged loader (CAP_BPF + CAP_PERFMON), as everything ipft loads already does.
//
// Which program: a packet is matched from its link-layer header where the kernel has set one
// (skb->mac_header valid), and from its network header where it has not (a locally generated packet
// before the neighbour layer has no Ethernet header yet). So compile twice, ethernet and raw, and choose
// at run time: skb->mac_header is a u16 offset from skb->head, and ~0 (0xffff) means unset. From the
// mac header: src = head + mac_header, avail = (head + tail) - src for the linear part (tail is also an
// offset); from the network header likewise with network_header. The wire length is skb->len plus the
// bytes between the start and skb->data (skb->len counts from data). Only the linear part is copied: a
// header that sits in a page fragment is past the captured length, and a filter needing it rejects the
// packet. A filter that only the ethernet compile takes (`vlan`, `ether host`) matches no packet without
// a link-layer header.
import type { Insn } from "../asm/index.js";
import { type CbpfInsn, compileFilter, type LinkType } from "../sys/pcap.js";
import * as c from "./cbpf.js";
import { stackPacketAccess } from "./packet.js";
import { translate } from "./translate.js";

export { describe } from "./cbpf.js";
export { copyPacket, type PacketCopy, type StackPacket, stackPacketAccess } from "./packet.js";
export {
  CLOBBERED,
  FilterTranslateError,
  type PacketAccess,
  REG_A,
  REG_X,
  SCRATCH_SIZE,
  translate,
} from "./translate.js";
export type { CbpfInsn, LinkType };

/**
 * Where to start the packet in the stack buffer, past an 8-aligned offset: the verifier refuses misaligned
 * stack loads, so a load whose stack address is not a multiple of its size is done in aligned pieces (two
 * to four loads, shifts and ors). Starting an Ethernet frame 2 bytes past an 8-aligned offset puts its IP
 * header (14 bytes in) on a 4-byte boundary, so addresses and ports are loaded whole; raw IP starts aligned.
 */
export const ALIGN_SHIFT: Record<LinkType, number> = { ethernet: 2, raw: 0 };

/** The default snapshot length: what the classic program returns for a match (any non-zero value). */
export const SNAPLEN = 262144;

export interface CompiledFilter {
  expr: string;
  linktype: LinkType;
  /** libpcap's optimised classic program. */
  cbpf: CbpfInsn[];
  /** The classic program, one line per instruction, as tcpdump -d prints it. */
  describe(): string[];
}

/** Compiles `expr` with libpcap. Throws a UsageError (exit 2) carrying libpcap's message for a bad
 * expression, a UserError naming the package when libpcap is missing. */
export function compilePcapFilter(
  expr: string,
  opts: { linktype: LinkType; snaplen?: number },
): CompiledFilter {
  const cbpf = compileFilter(expr, opts.linktype, opts.snaplen ?? SNAPLEN);
  return { expr, linktype: opts.linktype, cbpf, describe: () => c.describe(cbpf) };
}

export interface EmitSpec {
  /** The stack buffer copyPacket() filled: offset from R10 (negative) and size. */
  bufOff: number;
  bufSize: number;
  /** Registers (r4-r9) holding the captured length (<= bufSize) and the wire length. */
  capLenReg: number;
  wireLenReg: number;
  /** Stack offset (negative) of 64 bytes for the classic scratch memory M[0..15]. */
  scratchOff: number;
  /** The caller's labels for a packet the filter keeps and one it rejects. */
  match: string;
  nomatch: string;
  /** Prefix of the block's own labels (default "pf_"): give each block in a program its own. */
  labelPrefix?: string;
}

/** The eBPF block of a classic program over the stack buffer. Writes R0-R3 and the scratch words only,
 * calls nothing, ends by jumping to `match` or `nomatch`. */
export function emitFilter(cbpf: CbpfInsn[], spec: EmitSpec): Insn[] {
  const access = stackPacketAccess(spec);
  return translate(cbpf, {
    access,
    scratchOff: spec.scratchOff,
    match: spec.match,
    nomatch: spec.nomatch,
    ...(spec.labelPrefix !== undefined ? { labelPrefix: spec.labelPrefix } : {}),
  });
}

/** Bytes of the packet the program can read at constant offsets (the end of its furthest ABS load), and
 * whether it also reads at offsets computed at run time (IND loads: X + k). A buffer of at least
 * `constant` bytes lets every fixed-offset load of a full packet succeed. */
export function packetReach(cbpf: CbpfInsn[]): { constant: number; computed: boolean } {
  let constant = 0;
  let computed = false;
  for (const i of cbpf) {
    const cls = c.classOf(i.code);
    const mode = c.modeOf(i.code);
    if (cls === c.LD && mode === c.ABS) constant = Math.max(constant, (i.k >>> 0) + c.bytesOf(i.code));
    else if (cls === c.LDX && mode === c.MSH) constant = Math.max(constant, (i.k >>> 0) + 1);
    else if (cls === c.LD && mode === c.IND) computed = true;
  }
  return { constant, computed };
}
