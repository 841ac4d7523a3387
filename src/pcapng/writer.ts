// A pcapng writer that hands its sink complete blocks only.
//
// The guarantee: every block is built whole in memory and given to the sink in one `write` call (alone, or
// with the whole blocks before it when the writer batches: `batchBytes`, ipft's -w does); the file
// sink writes whole blocks (one block, or several whole blocks gathered in its buffer) with as few
// write(2) calls as the kernel allows and never starts a block it has not got entirely. So a file cut by
// SIGKILL, a full disk or a crash ends at a block boundary, or inside the last block written (a write(2)
// the kernel completed only in part), never with a damaged block followed by more blocks. Readers
// (tshark, capinfos, ipft's own) read every block before the cut. With a buffer (the default), the blocks
// still in it when the process is killed are lost: call `flush()` after each batch of events (ipft does so
// after each drain of the ring buffer) to bound that loss to one batch.

import { arch, cpus, release, type } from "node:os";
import { BlockBuilder } from "./block-builder.js";
import {
  BLOCK_CUSTOM,
  BLOCK_CUSTOM_NOCOPY,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_SHB,
  BYTE_ORDER_MAGIC,
  IF_DESCRIPTION,
  IF_NAME,
  IF_OS,
  IF_TSRESOL,
  ISB_ENDTIME,
  ISB_IFDROP,
  ISB_STARTTIME,
  ISB_USRDELIV,
  LINKTYPE_RAW,
  OPT_COMMENT,
  SHB_HARDWARE,
  SHB_OS,
  SHB_USERAPPL,
  TSRESOL_NS,
} from "./format.js";
import type { BlockSink } from "./sinks.js";

/** The Section Header Block's options. */
export interface SectionInfo {
  /** shb_userappl, e.g. "ipft 0.1.0". */
  userappl: string;
  /** shb_os; default `${os.type()} ${os.release()}`. Empty string: none. */
  os?: string;
  /** shb_hardware; default the architecture and first CPU's model. Empty string: none. */
  hardware?: string;
  /** Section comments (opt_comment, repeated): ipft puts its command line here. */
  comments?: readonly string[];
}

/** What makes interfaces distinct: the same name in two network namespaces is two interfaces. */
export interface InterfaceKey {
  /** The device's name (skb->dev->name), or a placeholder such as "(none)". */
  name: string;
  /** The inode of its network namespace (as in /proc/PID/ns/net). */
  netns: number | bigint;
  /** The link type its packets' bytes are written in (LINKTYPE_*). */
  linktype: number;
  /** The device's ifindex, when known: two devices of one name and namespace (one replaced the other)
   * are two interfaces. */
  ifindex?: number;
}

export interface InterfaceDetails {
  /** if_description; default "NAME in netns INODE". */
  description?: string;
  /** if_os. */
  os?: string;
  /** The IDB's snaplen: longer packets are cut to it (their original length is kept). 0: no limit. */
  snaplen?: number;
}

export interface FinishInput {
  /** Events the tracer lost (the ring buffer was full): isb_ifdrop of the first interface's statistics. */
  lostEvents?: bigint | number;
  /** Comments on that statistics block. */
  comments?: readonly string[];
  /** isb_endtime when an interface saw no packet (ns since the epoch); default now. */
  endNs?: bigint;
}

interface InterfaceState {
  id: number;
  snaplen: number;
  packets: number;
  /** The first and last packet's timestamps as their 32-bit halves (-1: none yet). */
  firstHi: number;
  firstLo: number;
  lastHi: number;
  lastLo: number;
}

const halvesToBig = (hi: number, lo: number): bigint | undefined =>
  hi < 0 ? undefined : (BigInt(hi) << 32n) | BigInt(lo);

/** The default shb_os and shb_hardware for this machine. */
export function hostSectionDefaults(): { os: string; hardware: string } {
  const model = cpus()[0]?.model?.trim();
  return { os: `${type()} ${release()}`, hardware: model ? `${arch()} ${model}` : arch() };
}

/**
 * Writes one pcapng section: the Section Header Block at once, an Interface Description Block the first
 * time an interface is used, one Enhanced Packet Block per packet, and at `finish()` an Interface
 * Statistics Block per interface.
 */
export class PcapngWriter {
  private readonly b: BlockBuilder;
  private readonly interfaces = new Map<string, InterfaceState>();
  private readonly byId: InterfaceState[] = [];
  private finished = false;
  /** Blocks are handed to the sink once this many bytes of them wait (and at flush()); 0: each at once. */
  private readonly batch: number;
  /** The interface of the block beginPacket() started, and its timestamp. */
  private open: InterfaceState | undefined;
  private openHi = 0;
  private openLo = 0;

  constructor(
    private readonly sink: BlockSink,
    section: SectionInfo,
    opts: { bigEndian?: boolean; batchBytes?: number } = {},
  ) {
    this.b = new BlockBuilder(!opts.bigEndian);
    this.batch = opts.batchBytes ?? 0;
    const host = hostSectionDefaults();
    const b = this.b;
    b.begin(BLOCK_SHB);
    b.u32(BYTE_ORDER_MAGIC);
    b.u16(1); // major version
    b.u16(0); // minor version
    b.u64(0xffffffffffffffffn); // section length: not known (-1)
    for (const c of section.comments ?? []) b.optString(OPT_COMMENT, c);
    const hardware = section.hardware ?? host.hardware;
    const os = section.os ?? host.os;
    if (hardware) b.optString(SHB_HARDWARE, hardware);
    if (os) b.optString(SHB_OS, os);
    b.optString(SHB_USERAPPL, section.userappl);
    this.commit();
  }

  /** The interface's id, writing its Interface Description Block the first time the key is seen. */
  interfaceFor(key: InterfaceKey, details: InterfaceDetails = {}): number {
    const k = `${key.linktype}\0${key.netns}\0${key.ifindex ?? ""}\0${key.name}`;
    const known = this.interfaces.get(k);
    if (known) return known.id;
    const snaplen = details.snaplen ?? 0;
    const b = this.b;
    b.begin(BLOCK_IDB);
    b.u16(key.linktype);
    b.u16(0); // reserved
    b.u32(snaplen);
    b.optString(IF_NAME, key.name);
    b.optString(IF_DESCRIPTION, details.description ?? `${key.name} in netns ${key.netns}`);
    b.optU8(IF_TSRESOL, TSRESOL_NS);
    if (details.os) b.optString(IF_OS, details.os);
    this.commit();
    const state: InterfaceState = {
      id: this.byId.length,
      snaplen,
      packets: 0,
      firstHi: -1,
      firstLo: 0,
      lastHi: -1,
      lastLo: 0,
    };
    this.interfaces.set(k, state);
    this.byId.push(state);
    return state.id;
  }

  private counted(iface: InterfaceState, tsHi: number, tsLo: number): void {
    iface.packets++;
    if (iface.firstHi < 0) {
      iface.firstHi = tsHi;
      iface.firstLo = tsLo;
    }
    iface.lastHi = tsHi;
    iface.lastLo = tsLo;
  }

  /**
   * An Enhanced Packet Block whose header and packet
   * bytes (`src[start..start+capLen)`, cut to the interface's snaplen) are written here, the timestamp given
   * as its two 32-bit halves (ns since the epoch); the caller then writes its options with the builder this
   * returns (optionHeader, the value, optionEnd) and calls endPacket(). No object, no bigint per packet.
   */
  beginPacket(
    interfaceId: number,
    tsHi: number,
    tsLo: number,
    src: Uint8Array,
    start: number,
    capLen: number,
    originalLength: number,
  ): BlockBuilder {
    const iface = this.byId[interfaceId];
    if (!iface) throw new RangeError(`pcapng: no interface ${interfaceId} (use interfaceFor first)`);
    const cap = iface.snaplen > 0 && capLen > iface.snaplen ? iface.snaplen : capLen;
    const b = this.b;
    b.begin(BLOCK_EPB);
    b.u32(interfaceId);
    b.u32(tsHi);
    b.u32(tsLo);
    b.u32(cap);
    b.u32(Math.max(originalLength, cap));
    b.copyFrom(src, start, start + cap);
    b.pad();
    this.open = iface;
    this.openHi = tsHi;
    this.openLo = tsLo;
    return b;
  }

  /** Ends the block beginPacket() started and hands it to the sink. */
  endPacket(): void {
    const iface = this.open;
    if (!iface) throw new Error("pcapng: endPacket() without beginPacket()");
    this.open = undefined;
    this.commit();
    this.counted(iface, this.openHi, this.openLo);
  }

  /** A Custom Block (0x00000BAD, or 0x40000BAD when tools rewriting the file should drop it). */
  customBlock(pen: number, data: Uint8Array, opts: { noCopy?: boolean } = {}): void {
    const b = this.b;
    b.begin(opts.noCopy ? BLOCK_CUSTOM_NOCOPY : BLOCK_CUSTOM);
    b.u32(pen);
    b.bytes(data);
    b.pad();
    this.commit();
  }

  /**
   * One Interface Statistics Block per interface (isb_starttime and isb_endtime: its first and last
   * packet, isb_usrdeliv: its packets), the lost events as isb_ifdrop of interface 0 (an interface named
   * "ipft" is declared if no packet came), then flushes the sink. Idempotent; the sink stays open.
   */
  finish(f: FinishInput = {}): void {
    if (this.finished) return;
    this.finished = true;
    const lost = BigInt(f.lostEvents ?? 0);
    // A file without an interface would end without a statistics block, which readers take for a file cut
    // short: a trace that saw nothing still says so, on an interface of its own.
    if (this.byId.length === 0)
      this.interfaceFor(
        { name: "ipft", netns: 0, linktype: LINKTYPE_RAW },
        { description: "no packet was traced" },
      );
    const now = f.endNs ?? BigInt(Date.now()) * 1_000_000n;
    const b = this.b;
    for (const s of this.byId) {
      const first = halvesToBig(s.firstHi, s.firstLo) ?? now;
      const last = halvesToBig(s.lastHi, s.lastLo) ?? now;
      b.begin(BLOCK_ISB);
      b.u32(s.id);
      b.ts64(last);
      if (s.id === 0) for (const c of f.comments ?? []) b.optString(OPT_COMMENT, c);
      b.optTs64(ISB_STARTTIME, first);
      b.optTs64(ISB_ENDTIME, last);
      if (s.id === 0) b.optU64(ISB_IFDROP, lost);
      b.optU64(ISB_USRDELIV, BigInt(s.packets));
      this.commit();
    }
    this.flush();
  }

  /** finish() and close the sink. */
  close(f: FinishInput = {}): void {
    try {
      this.finish(f);
    } finally {
      this.sink.close();
    }
  }

  /** Hands the blocks built to the sink, and the sink writes what it buffers. */
  flush(): void {
    if (this.b.pending > 0) this.sink.write(this.b.take());
    this.sink.flush();
  }

  /** A block is whole: to the sink now, or with the next ones. */
  private commit(): void {
    this.b.end();
    if (this.b.pending > this.batch) this.sink.write(this.b.take());
  }
}
