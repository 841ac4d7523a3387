// libpcap (Debian's libpcap0.8) through the FFI: tcpdump's filter language compiled by the real compiler
// into classic BPF, and libpcap's own interpreter (pcap_offline_filter) to check a translation against.
import koffi, { type LibraryHandle } from "koffi";
import { UsageError, UserError } from "../core/errors.js";

/** One classic BPF instruction, as struct bpf_insn holds it. */
export interface CbpfInsn {
  code: number; // u16
  jt: number; // u8
  jf: number; // u8
  k: number; // u32 (0 .. 2^32-1)
}

/** The link types a filter can be compiled for: frames from the Ethernet header, or packets from the
 * IP header (v4 or v6, told apart by the version nibble). */
export type LinkType = "ethernet" | "raw";

// DLT_EN10MB; DLT_RAW is 12 on Linux (LINKTYPE_RAW, 101, is the number in savefiles, which
// pcap_open_dead does not take).
const DLT: Record<LinkType, number> = { ethernet: 1, raw: 12 };

/** PCAP_NETMASK_UNKNOWN: `ip broadcast` then fails with libpcap's own message. */
const NETMASK_UNKNOWN = 0xffffffff;

const LIB = "libpcap.so.0.8";

let api: ReturnType<typeof bind> | undefined;

function bind(l: LibraryHandle) {
  return {
    openDead: l.func("void *pcap_open_dead(int linktype, int snaplen)"),
    close: l.func("void pcap_close(void *p)"),
    // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }: 16 bytes passed as a buffer.
    compile: l.func(
      "int pcap_compile(void *p, uint8_t *fp, const char *str, int optimize, uint32_t netmask)",
    ),
    geterr: l.func("const char *pcap_geterr(void *p)"),
    freecode: l.func("void pcap_freecode(uint8_t *fp)"),
    // struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }: 24 bytes.
    offlineFilter: l.func("int pcap_offline_filter(const uint8_t *fp, const uint8_t *h, const uint8_t *pkt)"),
  };
}

function load(): NonNullable<typeof api> {
  if (api) return api;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(LIB);
  } catch {
    throw new UserError(
      `packet filters need ${LIB}, which cannot be loaded: install it (Debian: apt-get install libpcap0.8)`,
    );
  }
  api = bind(lib);
  return api;
}

/** Compiles a pcap-filter expression (tcpdump's language) with libpcap's optimizer on. A bad expression
 * is a UsageError carrying libpcap's message. */
export function compileFilter(expr: string, linktype: LinkType, snaplen = 262144): CbpfInsn[] {
  const a = load();
  const p = a.openDead(DLT[linktype], snaplen);
  if (!p) throw new UserError(`libpcap cannot open a ${linktype} handle (pcap_open_dead failed)`);
  const prog = Buffer.alloc(16);
  try {
    if (a.compile(p, prog, expr, 1, NETMASK_UNKNOWN) !== 0) {
      const msg = String(a.geterr(p) ?? "syntax error")
        .replace(/\s+/g, " ")
        .trim();
      throw new UsageError(`bad packet filter "${expr}": ${msg}`);
    }
    try {
      const n = prog.readUInt32LE(0);
      const addr = prog.readBigUInt64LE(8);
      const raw = n === 0 ? new ArrayBuffer(0) : koffi.view(addr, n * 8).slice(0);
      const dv = new DataView(raw);
      const out: CbpfInsn[] = [];
      for (let i = 0; i < n; i++) {
        out.push({
          code: dv.getUint16(i * 8, true),
          jt: dv.getUint8(i * 8 + 2),
          jf: dv.getUint8(i * 8 + 3),
          k: dv.getUint32(i * 8 + 4, true),
        });
      }
      return out;
    } finally {
      a.freecode(prog);
    }
  } finally {
    a.close(p);
  }
}

/** Encodes instructions as an array of struct bpf_insn. */
export function encodeCbpf(insns: CbpfInsn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    b.writeUInt16LE(i.code, n * 8);
    b.writeUInt8(i.jt, n * 8 + 2);
    b.writeUInt8(i.jf, n * 8 + 3);
    b.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return b;
}

/** A program encoded once for many offlineFilter() calls. */
export class OfflineProgram {
  private readonly insns: Buffer;
  private readonly prog = Buffer.alloc(16);
  private readonly hdr = Buffer.alloc(24);
  constructor(insns: CbpfInsn[]) {
    this.insns = encodeCbpf(insns);
    this.prog.writeUInt32LE(insns.length, 0);
    this.prog.writeBigUInt64LE(koffi.address(this.insns), 8);
  }
  /** libpcap's verdict (the classic program's return value; non-zero is a match) on `packet`, the
   * captured bytes, of a packet `wireLen` bytes long on the wire (by default, all of it was captured). */
  run(packet: Uint8Array, wireLen = packet.length): number {
    this.hdr.writeUInt32LE(packet.length, 16);
    this.hdr.writeUInt32LE(wireLen, 20);
    // pcap_offline_filter returns the u_int bpf_filter gave, as an int.
    return (load().offlineFilter(this.prog, this.hdr, packet) as number) >>> 0;
  }
}

/** libpcap's verdict on one packet: pcap_offline_filter (bpf_filter, the classic interpreter). */
export function offlineFilter(insns: CbpfInsn[], packet: Uint8Array, wireLen = packet.length): number {
  return new OfflineProgram(insns).run(packet, wireLen);
}
