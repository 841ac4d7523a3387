// Drops whose place tells more than their reason: the same reason code covers several causes, and the
// function that freed the packet (the kfree_skb tracepoint's location) tells them apart. Each rule was
// read from the kernel's code at that place (Linux 6.1 to 6.18) and is proven by test/kernel/explain.test.ts
// where marked so.

export interface Rule {
  reason: string;
  /** The functions that free the packet for this cause (a function name, without +0xoffset). */
  functions: readonly string[];
  cause: string;
  failure: boolean;
  text: string;
}

export const RULES: readonly Rule[] = [
  {
    // ip_forward's too_many_hops (and ip6_forward's hop limit check): counted as InHdrErrors, so the
    // kernel reports IP_INHDR; the header is fine. Proven.
    reason: "IP_INHDR",
    functions: ["ip_forward", "ip6_forward"],
    cause: "TTL_EXPIRED",
    failure: true,
    text: "its TTL (IPv6: hop limit) ran out as this host forwarded it (it arrived with 1 or less) and the kernel sent an ICMP time exceeded back to the source; expected for traceroute probes, otherwise look for a routing loop or a sender's low TTL",
  },
  {
    // ip_forward's MTU check (ip_exceeds_mtu, after icmp_send ICMP_FRAG_NEEDED with the MTU) and
    // ip6_forward's (ICMPV6_PKT_TOOBIG): the reason says only "too big". Proven for IPv4.
    reason: "PKT_TOO_BIG",
    functions: ["ip_forward", "ip6_forward"],
    cause: "MTU_EXCEEDED",
    failure: true,
    text: "too big for the MTU of the device it would leave by, and it may not be fragmented (IPv4 with DF set, or IPv6): the kernel sent an ICMP fragmentation needed (IPv6: packet too big) with that MTU back to the source; if the sender keeps sending big packets, something on the way back drops those ICMP messages (a path MTU black hole)",
  },
  {
    // ping_rcv finds no ICMP socket (SOCK_DGRAM, IPPROTO_ICMP) for the reply's id; a raw socket got its
    // own clone earlier (raw_local_deliver, before icmp_rcv). Proven with iputils ping as root.
    reason: "NO_SOCKET",
    functions: ["ping_rcv", "icmp_rcv", "icmpv6_rcv"],
    cause: "ECHO_REPLY_NOT_CLAIMED",
    failure: false,
    text: "an ICMP echo reply no ping socket (unprivileged ICMP socket) waited for: not a failure when the pinging program reads replies through a raw socket (iputils ping as root), which gets its own copy before this",
  },
  {
    // ip_error: a received packet's route lookup failed (ip_route_input_slow). Forwarding off on the
    // device it came in on (IN_DEV_FORWARD) gives IP_INADDRERRORS and no ICMP; no route gives the same
    // reason (EHOSTUNREACH) or IP_INNOROUTES (ENETUNREACH) and an ICMP unreachable. The facts tell which
    // (explain/facts.ts reads the device's forwarding). Proven with forwarding off.
    reason: "IP_INADDRERRORS",
    functions: ["ip_error"],
    cause: "NO_ROUTE",
    failure: true,
    text: "this host received a packet for another host and could not route it: either forwarding is off on the device it came in on (then no ICMP is sent back), or no route leads to its destination (an ICMP destination unreachable is sent back)",
  },
  {
    reason: "IP_INNOROUTES",
    functions: ["ip_error"],
    cause: "NO_ROUTE",
    failure: true,
    text: "this host received a packet for another host and no route leads to its destination (network unreachable); an ICMP destination unreachable is sent back when forwarding is on",
  },
  {
    reason: "NO_SOCKET",
    functions: ["__udp4_lib_rcv", "__udp6_lib_rcv"],
    cause: "NO_SOCKET",
    failure: true,
    text: "no UDP socket is bound to the packet's destination address and port; the kernel answers with an ICMP port unreachable (rate-limited)",
  },
  {
    reason: "NO_SOCKET",
    functions: ["tcp_v4_rcv", "tcp_v6_rcv"],
    cause: "NO_SOCKET",
    failure: true,
    text: "no TCP socket listens on the packet's destination address and port; the kernel answers with a reset (unless the segment was a reset)",
  },
  {
    // Every purge of a queue in bulk (skb_queue_purge and its inline form): a closing socket's receive
    // queue (raw, packet, ICMP sockets...), a device's or qdisc's queue at reset. Proven with a packet
    // socket closed with data queued.
    reason: "QUEUE_PURGE",
    functions: [],
    cause: "QUEUE_PURGE",
    failure: false,
    text: "freed with its whole queue as the queue was emptied (a socket closing with data its program never read, a device or qdisc reset): not a failure of the network",
  },
  {
    // Before QUEUE_PURGE (6.1), and UDP's own queue at close, free with no reason at these places.
    reason: "NOT_SPECIFIED",
    functions: ["skb_queue_purge", "udp_destruct_common", "udp_destruct_sock", "inet_sock_destruct"],
    cause: "QUEUE_PURGE",
    failure: false,
    text: "freed with its socket's queue as the socket closed, unread by its program: not a failure of the network",
  },
  {
    // netif_receive_generic_xdp frees what an XDP program in generic (skb) mode drops (XDP_DROP, XDP_ABORTED,
    // an unknown action) with plain kfree_skb, 6.1 to 6.18; only a failed redirect or XDP_TX there frees
    // with reason XDP (do_xdp_generic). Proven with XDP_DROP on a veth in generic mode.
    reason: "NOT_SPECIFIED",
    functions: ["netif_receive_generic_xdp", "do_xdp_generic"],
    cause: "XDP",
    failure: true,
    text: "an XDP program on the receiving device (generic, skb mode) dropped it: it returned XDP_DROP or XDP_ABORTED, for which the kernel gives no reason",
  },
  {
    // veth_xdp_rcv_skb (native XDP on a veth, 6.1 to 6.18) frees with plain kfree_skb what its program
    // drops (XDP_DROP, XDP_ABORTED, an unknown action) and a packet it could not make ready for the
    // program (its copy into a page failed): the device's program, in the facts, tells which to suspect.
    // Proven with XDP_DROP in driver mode on a veth.
    reason: "NOT_SPECIFIED",
    functions: ["veth_xdp_rcv_skb"],
    cause: "XDP",
    failure: true,
    text: "veth's XDP receive path (driver mode) freed it without a reason: its XDP program dropped it (XDP_DROP, XDP_ABORTED), or, more rarely, veth could not copy it for the program (out of memory)",
  },
  {
    // tcp_v4_rcv/tcp_v6_rcv free with NOT_SPECIFIED (discard_it's default) when no other reason was set:
    // after a TIME_WAIT socket handled the segment (do_time_wait: ACK, reset or nothing, then discard_it),
    // for a request socket's segment tcp_check_req had no use for (a duplicate, or the accept queue
    // full: listen_overflow returns without a reason), and for a frame not addressed to this host
    // (pkt_type). Read from 6.1 to 6.18; the TIME_WAIT case seen on a FIN after the peer closed.
    reason: "NOT_SPECIFIED",
    functions: ["tcp_v4_rcv", "tcp_v6_rcv"],
    cause: "TCP_NO_REASON",
    failure: true,
    text: "the TCP receive path let it go without a reason, which it does in three cases: a segment for a connection already in TIME_WAIT (closed here; the kernel answered it with an ACK or a reset, or ignored it: expected after a close), a segment for a connection being set up that it had no more use for (a duplicate, or the listener's accept queue was full: nstat -az TcpExtListenOverflows counts those), or a frame not addressed to this host",
  },
  {
    reason: "SOCKET_CLOSE",
    functions: [],
    cause: "SOCKET_CLOSE",
    failure: false,
    text: "queued to a socket that was closed before its program read it: not a failure of the network",
  },
];

/** The rule for a drop with `reason` in function `fn`: one naming the function first, then one for any. */
export function ruleFor(reason: string, fn: string): Rule | undefined {
  let any: Rule | undefined;
  for (const r of RULES) {
    if (r.reason !== reason) continue;
    if (r.functions.length === 0) any ??= r;
    else if (r.functions.includes(fn)) return r;
  }
  return any;
}
