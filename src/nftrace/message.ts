// nftables' trace events as the kernel sends them to the NFNLGRP_NFTRACE netlink group: NFT_MSG_TRACE
// messages (include/uapi/linux/netfilter/nf_tables.h, enum nft_trace_attributes; filled in by
// net/netfilter/nf_tables_trace.c), one per rule, return or chain policy a traced packet (meta nftrace
// set 1) goes through. Integers in attributes are big endian; the message header and nla headers are not.

/** The group to join, and the message type (NFNL_SUBSYS_NFTABLES 10 << 8 | NFT_MSG_TRACE 17). */
export const NFNLGRP_NFTRACE = 9;
export const NFT_MSG_TRACE_TYPE = (10 << 8) | 17;

const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

const A = {
  TABLE: 1,
  CHAIN: 2,
  RULE_HANDLE: 3,
  TYPE: 4,
  VERDICT: 5,
  ID: 6,
  NETWORK_HEADER: 8,
  TRANSPORT_HEADER: 9,
  IIF: 10,
  OIF: 12,
  MARK: 14,
  NFPROTO: 15,
  POLICY: 16,
} as const;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;

/** enum nft_trace_types (UNSPEC 0): the order is POLICY, RETURN, RULE, as this kernel's bytes show. */
export const TRACE_POLICY = 1;
export const TRACE_RETURN = 2;
export const TRACE_RULE = 3;

/** Netfilter verdicts (NF_DROP 0, NF_ACCEPT 1; nftables' own are negative: NFT_JUMP -3...). */
export const NF_DROP = 0;

/** NFPROTO_* / the table's family, as nft names it. */
export const FAMILY_NAMES: Readonly<Record<number, string>> = {
  1: "inet",
  2: "ip",
  3: "arp",
  5: "netdev",
  7: "bridge",
  10: "ip6",
};

const HOOK_VERDICTS: Readonly<Record<number, string>> = {
  0: "drop",
  1: "accept",
  2: "stolen",
  3: "queue",
  4: "repeat",
  5: "stop",
};
const NFT_VERDICTS: Readonly<Record<number, string>> = {
  [-1]: "continue",
  [-2]: "break",
  [-3]: "jump",
  [-4]: "goto",
  [-5]: "return",
};

export interface TraceEvent {
  /** The table's family (nfgenmsg's), e.g. 1 for inet. */
  family: number;
  table: string;
  chain: string;
  /** The rule's handle (rule events only). */
  handle?: bigint;
  /** TRACE_RULE, TRACE_RETURN or TRACE_POLICY. */
  type: number;
  /** The verdict code: a rule's (NFTA_VERDICT_CODE), or for a policy event the policy (NFTA_TRACE_POLICY). */
  verdict?: number;
  /** The chain a jump or goto went to. */
  jumpTo?: string;
  /** The trace id: the same for every event of one packet's pass through one hook (a hash, not skb). */
  id: number;
  /** The packet's network header (IPv4/IPv6) and transport header, as the rule saw them. */
  network?: Uint8Array;
  transport?: Uint8Array;
  iif?: number;
  oif?: number;
  mark?: number;
  /** The hook's protocol family (NFPROTO_IPV4 2, NFPROTO_IPV6 10...). */
  nfproto?: number;
}

/** The verdict's name as nft prints it (drop, accept, jump...), or the number. */
export function verdictName(v: number): string {
  return HOOK_VERDICTS[v] ?? NFT_VERDICTS[v] ?? String(v);
}

function str(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** Each attribute's type and payload, in `b`. */
function* attrs(b: Uint8Array): Generator<[number, Uint8Array]> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off + 4 <= b.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > b.length) return;
    yield [dv.getUint16(off + 2, true) & NLA_TYPE_MASK, b.subarray(off + 4, off + len)];
    off += (len + 3) & ~3;
  }
}

const be32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
const sbe32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getInt32(0, false);

/** The trace events in one datagram (other messages are skipped; a truncated one ends the datagram). */
export function parseTraceMessages(datagram: Uint8Array): TraceEvent[] {
  const out: TraceEvent[] = [];
  const dv = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= datagram.length) {
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > datagram.length) break;
    if (dv.getUint16(off + 4, true) === NFT_MSG_TRACE_TYPE && len >= NLMSG_HDRLEN + NFGENMSG_LEN) {
      const family = datagram[off + NLMSG_HDRLEN]!;
      const body = datagram.subarray(off + NLMSG_HDRLEN + NFGENMSG_LEN, off + len);
      out.push(parseTrace(family, body));
    }
    off += (len + 3) & ~3;
  }
  return out;
}

function parseTrace(family: number, body: Uint8Array): TraceEvent {
  const e: TraceEvent = { family, table: "", chain: "", type: 0, id: 0 };
  for (const [t, v] of attrs(body)) {
    if (t === A.TABLE) e.table = str(v);
    else if (t === A.CHAIN) e.chain = str(v);
    else if (t === A.RULE_HANDLE && v.length >= 8)
      e.handle = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, false);
    else if (t === A.TYPE && v.length >= 4) e.type = be32(v);
    else if (t === A.ID && v.length >= 4) e.id = be32(v);
    else if (t === A.NETWORK_HEADER) e.network = v.slice();
    else if (t === A.TRANSPORT_HEADER) e.transport = v.slice();
    else if (t === A.IIF && v.length >= 4) e.iif = be32(v);
    else if (t === A.OIF && v.length >= 4) e.oif = be32(v);
    else if (t === A.MARK && v.length >= 4) e.mark = be32(v);
    else if (t === A.NFPROTO && v.length >= 4) e.nfproto = be32(v);
    else if (t === A.POLICY && v.length >= 4) e.verdict = sbe32(v);
    else if (t === A.VERDICT)
      for (const [vt, vv] of attrs(v)) {
        if (vt === NFTA_VERDICT_CODE && vv.length >= 4) e.verdict = sbe32(vv);
        else if (vt === NFTA_VERDICT_CHAIN) e.jumpTo = str(vv);
      }
  }
  return e;
}

/** Whether this event is the packet's drop: a rule's drop verdict, or a chain's drop policy. */
export const isDrop = (e: TraceEvent): boolean =>
  (e.type === TRACE_RULE || e.type === TRACE_POLICY) && e.verdict === NF_DROP;
