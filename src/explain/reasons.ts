// What each drop reason of the kernel's `enum skb_drop_reason` means, in a network engineer's words, by name
// (values change between kernel versions; names stay). Written from the kernel's documentation of the enum
// (include/net/dropreason-core.h, before 6.4 include/net/dropreason.h) and the code that uses each reason;
// it covers every reason of Linux 6.1, 6.12 and 6.18. A reason not here (a newer kernel's) keeps its name
// alone: explain.ts gives no sentence rather than a guess.

export const REASON_TEXT: Readonly<Record<string, string>> = {
  NOT_SPECIFIED: "the code that freed the packet gave no reason; the place it was freed is the only clue",
  NO_SOCKET:
    "no socket is open for the packet's destination (address, protocol and port): nothing listens there; UDP answers with an ICMP port unreachable, TCP with a reset",
  SOCKET_CLOSE: "the socket it was queued to was closed before the application read it",
  SOCKET_FILTER: "a filter attached to the socket (SO_ATTACH_FILTER, a BPF socket filter) rejected it",
  SOCKET_RCVBUFF:
    "the socket's receive buffer was full (the application reads too slowly for its SO_RCVBUF / net.core.rmem_*)",
  UNIX_DISCONNECT:
    "a Unix datagram or seqpacket socket's queue was emptied because it reconnected elsewhere or its peer closed",
  UNIX_SKIP_OOB: "out-of-band data on a Unix socket, skipped by a read without MSG_OOB",
  PKT_TOO_SMALL: "the packet is shorter than its headers say it should be (truncated or malformed)",
  TCP_CSUM: "the TCP checksum is wrong (corrupted on the way, or a checksum offload problem)",
  UDP_CSUM: "the UDP checksum is wrong (corrupted on the way, or a checksum offload problem)",
  NETFILTER_DROP: "a netfilter rule or chain policy dropped it (nftables, iptables, or a conntrack helper)",
  OTHERHOST:
    "the packet is not addressed to this host (its destination MAC is another's; seen because the device is in promiscuous mode)",
  IP_CSUM: "the IPv4 header checksum is wrong",
  IP_INHDR:
    "the IP header is invalid (bad version, header length or total length; the same counter, InHdrErrors, counts expired TTLs in forwarding)",
  IP_RPFILTER:
    "reverse-path filtering rejected it: the source address is not reachable back through the device it came in on (net.ipv4.conf.*.rp_filter)",
  UNICAST_IN_L2_MULTICAST: "an IP unicast packet inside a link-layer multicast or broadcast frame",
  XFRM_POLICY:
    "an IPsec (xfrm) policy check failed: no policy allows it, or it needed IPsec and came in clear",
  IP_NOPROTO:
    "no handler for the IP protocol number on this host (the protocol is not supported or not loaded)",
  PROTO_MEM:
    "the protocol's memory limit was reached (net.ipv4.udp_mem or tcp_mem): the whole protocol is under memory pressure",
  TCP_AUTH_HDR: "the TCP MD5 or TCP-AO option appears twice or is malformed",
  TCP_MD5NOTFOUND: "a TCP MD5 signature was expected on this connection and the segment has none",
  TCP_MD5UNEXPECTED: "the segment has a TCP MD5 signature this socket does not expect",
  TCP_MD5FAILURE: "the TCP MD5 signature is wrong (a key mismatch between the peers)",
  TCP_AONOTFOUND: "the connection requires TCP-AO authentication and the segment has none",
  TCP_AOUNEXPECTED: "the segment has a TCP-AO option this socket does not expect",
  TCP_AOKEYNOTFOUND: "the segment's TCP-AO key is unknown to this socket",
  TCP_AOFAILURE: "the TCP-AO signature is wrong",
  SOCKET_BACKLOG:
    "the TCP socket's backlog was full while the application held the socket (its receive buffer limit was reached)",
  TCP_FLAGS: "the TCP flags are invalid for the connection's state",
  TCP_ABORT_ON_DATA:
    "data arrived for a TCP socket the application has closed: the connection is aborted with a reset",
  TCP_ZEROWINDOW: "the TCP data arrived while the receive window was zero (the receiver is not reading)",
  TCP_OLD_DATA: "the TCP data was already received (a retransmission, possibly spurious)",
  TCP_OVERWINDOW: "the TCP data lies beyond the right edge of the receive window",
  TCP_OFOMERGE: "out-of-order TCP data already held in the out-of-order queue",
  TCP_RFC7323_PAWS:
    "the TCP timestamp is too old (PAWS, RFC 7323): taken for an old duplicate of a wrapped sequence",
  TCP_RFC7323_PAWS_ACK: "the TCP timestamp of a pure ACK is too old (PAWS, RFC 7323)",
  TCP_RFC7323_TW_PAWS: "the TCP timestamp is too old for a connection in TIME_WAIT (PAWS, RFC 7323)",
  TCP_RFC7323_TSECR: "the TCP timestamp echo (TSecr) does not match a timestamp this side sent",
  TCP_LISTEN_OVERFLOW:
    "the listening socket's accept queue is full (the application accepts too slowly for its listen() backlog / net.core.somaxconn)",
  TCP_OLD_SEQUENCE: "the TCP sequence number is old (a duplicate segment)",
  TCP_INVALID_SEQUENCE: "the TCP sequence number is outside the receive window",
  TCP_INVALID_END_SEQUENCE: "the TCP segment ends beyond the receive window",
  TCP_INVALID_ACK_SEQUENCE:
    "the TCP acknowledgment number acknowledges data not in flight (outside snd_una..snd_nxt)",
  TCP_RESET: "a TCP reset that is not acceptable (its sequence number is outside the window)",
  TCP_INVALID_SYN: "an unexpected SYN on an established TCP connection",
  TCP_CLOSE: "the TCP socket is closed",
  TCP_FASTOPEN: "dropped by a TCP Fast Open request socket",
  TCP_OLD_ACK: "an old TCP acknowledgment, still in the window",
  TCP_TOO_OLD_ACK: "a TCP acknowledgment too old to be accepted",
  TCP_ACK_UNSENT_DATA: "a TCP acknowledgment for data not sent yet",
  TCP_OFO_QUEUE_PRUNE: "out-of-order TCP data pruned because the socket ran short of receive memory",
  TCP_OFO_DROP:
    "out-of-order TCP data that is already in the receive queue, or beyond the memory the socket may use",
  IP_OUTNOROUTES: "no route to the destination when sending (check the routing table and policy rules)",
  BPF_CGROUP_EGRESS: "a cgroup BPF program (BPF_PROG_TYPE_CGROUP_SKB) refused the packet on its way out",
  IPV6DISABLED: "the device has IPv6 disabled (net.ipv6.conf.*.disable_ipv6)",
  NEIGH_CREATEFAIL: "the neighbour (ARP or NDP) entry for the next hop could not be created",
  NEIGH_FAILED:
    "the next hop never answered ARP or neighbour discovery (its neighbour entry is FAILED): it is down, absent or on another link",
  NEIGH_QUEUEFULL:
    "too many packets waited for the next hop's ARP or neighbour discovery answer (its queue is full)",
  NEIGH_DEAD: "the next hop's neighbour entry was being removed",
  NEIGH_HH_FILLFAIL: "the link-layer header for the next hop could not be filled in",
  TC_EGRESS: "a tc filter or action on the device's egress dropped it",
  SECURITY_HOOK: "a security module (SELinux, Smack, a BPF LSM) dropped it",
  QDISC_DROP: "the device's queueing discipline did not accept it (its queue is full or it chose to drop)",
  QDISC_OVERLIMIT: "the queueing discipline's total buffer limit was exceeded",
  QDISC_CONGESTED: "the queueing discipline's active queue management dropped it for congestion",
  CAKE_FLOOD: "the CAKE qdisc's flood protection (BLUE) dropped it",
  FQ_BAND_LIMIT: "the fq qdisc's per-band limit was reached",
  FQ_HORIZON_LIMIT: "the fq qdisc dropped it: its departure time is too far in the future (horizon)",
  FQ_FLOW_LIMIT: "the fq qdisc's per-flow limit was reached",
  DUALPI2_STEP_DROP: "the DualPI2 qdisc's step threshold dropped it",
  CPU_BACKLOG:
    "the receiving CPU's backlog queue was full (net.core.netdev_max_backlog) or RPS's flow limit was reached",
  XDP: "an XDP program on the receiving device dropped it",
  TC_INGRESS: "a tc filter or action on the device's ingress dropped it",
  UNHANDLED_PROTO: "a protocol the kernel does not handle here (not implemented or not supported)",
  SKB_CSUM: "computing the packet's checksum failed",
  SKB_GSO_SEG: "splitting a large (GSO) packet into segments failed",
  SKB_BAD_GSO: "a large (GSO) packet from an untrusted source has invalid segmentation headers",
  SKB_UCOPY_FAULT: "copying the data from user space failed",
  DEV_HDR: "the device driver's header or metadata is invalid",
  DEV_READY: "the device is not ready to send or receive (down, or not fully set up)",
  FULL_RING: "the device's ring buffer is full",
  NOMEM: "the kernel ran out of memory handling it",
  HDR_TRUNC: "a protocol header could not be read from the packet (truncated)",
  TAP_FILTER: "a BPF filter attached to the tun/tap device dropped it",
  TAP_TXFILTER: "the tun/tap device's transmit filter dropped it",
  ICMP_CSUM: "the ICMP checksum is wrong",
  INVALID_PROTO:
    "the packet breaks its protocol's rules (for example an ICMP timestamp request sent to broadcast)",
  IP_INADDRERRORS: "the destination is unreachable from here (an invalid or unreachable address)",
  IP_INNOROUTES: "no route to the destination for a received packet (network unreachable)",
  IP_LOCAL_SOURCE: "a received packet claims a source address of this host",
  IP_INVALID_SOURCE: "the source address is invalid (multicast, limited broadcast, or zero outside IGMP)",
  IP_LOCALNET:
    "the source or destination is a loopback address on a device that is not loopback (route_localnet is off)",
  IP_INVALID_DEST: "the destination address is invalid (zero)",
  PKT_TOO_BIG: "the packet is larger than the path allows (it exceeds the MTU and may not be fragmented)",
  DUP_FRAG: "a duplicate IP fragment",
  FRAG_REASM_TIMEOUT: "not all fragments of the packet arrived in time to reassemble it",
  FRAG_TOO_FAR: "an IPv4 fragment arrived too far out of order (net.ipv4.ipfrag_max_dist)",
  TCP_MINTTL: "the TTL or hop limit is below the minimum the socket requires (IP_MINTTL, IPV6_MINHOPCOUNT)",
  IPV6_BAD_EXTHDR: "an invalid IPv6 extension header",
  IPV6_TOO_MANY_EXTHDRS: "more IPv6 extension headers than the kernel accepts",
  IPV6_NDISC_FRAG: "a fragmented IPv6 neighbour discovery message (not allowed)",
  IPV6_NDISC_HOP_LIMIT:
    "an IPv6 neighbour discovery message whose hop limit is not 255 (it did not come from the link)",
  IPV6_NDISC_BAD_CODE: "an IPv6 neighbour discovery message with an invalid ICMPv6 code",
  IPV6_NDISC_BAD_OPTIONS: "an IPv6 neighbour discovery message with invalid options",
  IPV6_NDISC_NS_OTHERHOST: "an IPv6 neighbour solicitation for an address of another host",
  QUEUE_PURGE:
    "freed with a whole queue as it was emptied (a socket closing with unread data, a device or qdisc being reset)",
  TC_COOKIE_ERROR: "processing a tc action's cookie failed",
  PACKET_SOCK_ERROR: "a packet socket (AF_PACKET) whose filter matched could not take it",
  TC_CHAIN_NOTFOUND: "a tc action jumped to a chain that does not exist",
  TC_RECLASSIFY_LOOP: "tc reclassified it too many times (a loop between filters)",
  VXLAN_INVALID_HDR: "an invalid VXLAN header (reserved bits set, or the VNI flag missing)",
  VXLAN_VNI_NOT_FOUND: "no VXLAN device for the packet's VNI",
  MAC_INVALID_SOURCE: "the source MAC address is invalid",
  VXLAN_ENTRY_EXISTS: "a VXLAN forwarding entry could not be moved (it is static, or points to a nexthop)",
  NO_TX_TARGET: "no target to send it to (a tunnel or virtual device found no destination)",
  IP_TUNNEL_ECN: "a tunnel's decapsulation found an invalid ECN combination (RFC 6040)",
  TUNNEL_TXINFO:
    "it reached a tunnel device in external (metadata) mode without the tunnel metadata it needs",
  LOCAL_MAC: "its source MAC address is the receiving device's own",
  ARP_PVLAN_DISABLE: "a non-IP packet forwarded back out its own device while proxy_arp_pvlan is off",
  MAC_IEEE_MAC_CONTROL: "its destination MAC address is an IEEE MAC Control address (not forwarded)",
  BRIDGE_INGRESS_STP_STATE:
    "the bridge port it came in on does not forward in its STP state (blocking, listening)",
  BLACKHOLE: "it matched a blackhole route",
  CAN_RX_INVALID_FRAME: "an invalid CAN frame (or a device that cannot receive CAN frames)",
  CANFD_RX_INVALID_FRAME: "an invalid CAN FD frame (or a device that cannot receive CAN frames)",
  CANXL_RX_INVALID_FRAME: "an invalid CAN XL frame (or a device that cannot receive CAN frames)",
  PFMEMALLOC: "the packet used emergency memory reserves and its socket may not use them",
  PSP_INPUT: "the PSP encryption checks on a received packet failed",
  PSP_OUTPUT: "the PSP encryption checks on a sent packet failed",
  RECURSION_LIMIT:
    "sending looped through virtual devices too deep (a loop between tunnels or stacked devices)",
  SKB_RX_HEADROOM: "the received buffer lacks the room before the packet that the kernel needs",
};
