// The pcapng numbers ipft writes and reads (draft-ietf-opsawg-pcapng): block types, option codes, link
// types. Both the writer and the reader use these, so the two cannot disagree.
//
// How an ipft trace is laid out (little endian, one section; src/output/pcapng.ts has the details):
//   SHB  shb_userappl "ipft VERSION", shb_os, shb_hardware, opt_comment: the command line, and
//        "ipft:" + {"format":N,"tracer":"..."} (what --read needs)
//   IDB  one per link type, on first use: if_name "ipft", if_description, if_tsresol 9 (ns since the epoch)
//   EPB  one per trace event: the packet's bytes as captured at that point (or an empty Exported PDU), and
//          opt_comment  the line ipft prints (human readable; Wireshark shows it, `frame.comment`)
//          custom option 2989, PEN IPFT_PEN, kind NAMES: names of the addresses this event is the first
//                       to use (functions, drop reasons, locations, stack frames), when it has any
//          custom option 2989, PEN IPFT_PEN, kind EVENT: the trace record's bytes (what --read rebuilds
//                       the event from), then the script's text when the run had one
//          epb_packetid the packet id (1, 2, 3...): one id for the packet at every function, never shared
//                       with another packet of the trace (`frame.packet_id`)
//          epb_dropcount events lost just before this one (`frame.drop_count`)
//   ISB  at the end, one per interface: isb_starttime/isb_endtime (its first and last event),
//        isb_usrdeliv (its events); interface 0's also isb_ifdrop = the session's lost events
// Filters: `frame.comment contains "kfree_skb"`, `frame.comment matches " ip_rcv( |$)"`,
// `frame.packet_id == 7`, `frame.drop_count > 0`.

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_OPB = 0x00000002; // the obsolete Packet Block: read, never written
export const BLOCK_SPB = 0x00000003;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BLOCK_CUSTOM = 0x00000bad; // may be copied by tools that rewrite the file
export const BLOCK_CUSTOM_NOCOPY = 0x40000bad;

/** The Section Header Block's byte-order magic, as written in the file's own byte order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Options every block may carry. */
export const OPT_ENDOFOPT = 0;
export const OPT_COMMENT = 1;
export const OPT_CUSTOM_STR = 2988; // UTF-8 after the PEN, may be copied
export const OPT_CUSTOM_BIN = 2989; // bytes after the PEN, may be copied
export const OPT_CUSTOM_STR_NOCOPY = 19372;
export const OPT_CUSTOM_BIN_NOCOPY = 19373;

export const SHB_HARDWARE = 2;
export const SHB_OS = 3;
export const SHB_USERAPPL = 4;

export const IF_NAME = 2;
export const IF_DESCRIPTION = 3;
export const IF_TSRESOL = 9;
export const IF_OS = 12;
export const IF_TSOFFSET = 14;

export const EPB_FLAGS = 2;
export const EPB_DROPCOUNT = 4;
export const EPB_PACKETID = 5;
export const EPB_QUEUE = 6;

export const ISB_STARTTIME = 2;
export const ISB_ENDTIME = 3;
export const ISB_IFRECV = 4;
export const ISB_IFDROP = 5;
export const ISB_FILTERACCEPT = 6;
export const ISB_OSDROP = 7;
export const ISB_USRDELIV = 8;

/** epb_flags bits 0-1. */
export const DIRECTION_UNKNOWN = 0;
export const DIRECTION_INBOUND = 1;
export const DIRECTION_OUTBOUND = 2;
export type Direction = "inbound" | "outbound";

/** Link types (tcpdump.org/linktypes.html) an skb's bytes can be written as. */
export const LINKTYPE_ETHERNET = 1;
/** Raw IPv4 or IPv6, told apart by the version nibble (an skb seen above the link layer). */
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL2 = 276;
/** Wireshark's Exported PDU: tags, then a payload. ipft writes an event without packet bytes as an empty
 * one (the end-of-tags tag alone, 4 zero bytes): tools show it as a frame with no protocol, no error. */
export const LINKTYPE_WIRESHARK_UPPER_PDU = 252;

/** ipft writes timestamps in nanoseconds: if_tsresol = 9 (10^-9 s). */
export const TSRESOL_NS = 9;

/** The prefix of the comment that carries an event's fields as JSON. */
export const META_PREFIX = "ipft:";

/** The Private Enterprise Number of ipft's custom options. ipft has no IANA number of its own: this is
 * 32473, the one IANA keeps for documentation and examples (RFC 5612), so it names no one else's data;
 * the byte after it (IPFT_KIND_*) and the section's "ipft:" comment tell ipft's options apart. A number
 * of ipft's own would change the file format's version. */
export const IPFT_PEN = 32473;
/** The first byte of an ipft custom option after the PEN: what follows. */
export const IPFT_KIND_EVENT = 1;
export const IPFT_KIND_NAMES = 2;
