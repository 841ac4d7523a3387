// Names of the numbers a header carries, as tcpdump and the IANA registries spell them. A number without
// a name here is printed as a number.

/** EtherTypes (IEEE 802). */
export const ETHERTYPES: Readonly<Record<number, string>> = {
  2048: "IPv4",
  2054: "ARP",
  2114: "Wake-on-LAN",
  8944: "AVTP",
  8947: "TRILL",
  25944: "TEB",
  32821: "RARP",
  33024: "802.1Q",
  34525: "IPv6",
  34824: "Ethernet flow control",
  34825: "Slow protocols (LACP)",
  34887: "MPLS unicast",
  34888: "MPLS multicast",
  34915: "PPPoE discovery",
  34916: "PPPoE session",
  34958: "EAPOL",
  34984: "802.1ad",
  35020: "LLDP",
  35045: "MACsec",
  35063: "PTP",
  35074: "CFM",
  35078: "FCoE",
  36864: "Loopback",
};

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_ARP = 0x0806;
export const ETH_8021Q = 0x8100;
export const ETH_8021AD = 0x88a8;
/** Transparent Ethernet bridging: an Ethernet frame follows (gretap, Geneve). */
export const ETH_TEB = 0x6558;

/** IP protocol numbers (IANA), lower case as in /etc/protocols. */
export const IP_PROTOCOLS: Readonly<Record<number, string>> = {
  0: "hopopt",
  1: "icmp",
  2: "igmp",
  4: "ipip",
  6: "tcp",
  17: "udp",
  33: "dccp",
  41: "ipv6",
  43: "ipv6-route",
  44: "ipv6-frag",
  46: "rsvp",
  47: "gre",
  50: "esp",
  51: "ah",
  58: "icmp6",
  59: "ipv6-nonxt",
  60: "ipv6-opts",
  88: "eigrp",
  89: "ospf",
  103: "pim",
  112: "vrrp",
  115: "l2tp",
  132: "sctp",
  135: "mobility-header",
  136: "udplite",
  137: "mpls-in-ip",
  143: "ethernet",
  253: "experiment",
  254: "experiment",
  255: "reserved",
};

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

/** IPv6 extension headers walked to find the upper-layer protocol (RFC 8200 4.1; AH has its own length). */
export const IPV6_HOPOPTS = 0;
export const IPV6_ROUTING = 43;
export const IPV6_FRAGMENT = 44;
export const IPV6_AH = 51;
export const IPV6_DSTOPTS = 60;
export const IPV6_NONXT = 59;

/** UDP ports of the tunnels decoded (IANA). */
export const UDP_VXLAN = 4789;
export const UDP_GENEVE = 6081;

/** ICMP (RFC 792 and later) messages: type -> name; the code's text for the types that have codes. */
export const ICMP_TYPES: Readonly<Record<number, string>> = {
  0: "echo reply",
  3: "unreachable",
  4: "source quench",
  5: "redirect",
  8: "echo request",
  9: "router advertisement",
  10: "router solicitation",
  11: "time exceeded",
  12: "parameter problem",
  13: "timestamp request",
  14: "timestamp reply",
  15: "information request",
  16: "information reply",
  17: "address mask request",
  18: "address mask reply",
  42: "extended echo request",
  43: "extended echo reply",
};
export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACH = 3;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_UNREACH_NEEDFRAG = 4;

/** Destination unreachable's codes, as "<what> unreachable" reads (tcpdump's words). */
export const ICMP_UNREACH_CODES: Readonly<Record<number, string>> = {
  0: "net unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  4: "need to frag",
  5: "source route failed",
  6: "net unknown",
  7: "host unknown",
  8: "source host isolated",
  9: "net prohibited",
  10: "host prohibited",
  11: "net tos unreachable",
  12: "host tos unreachable",
  13: "administratively prohibited",
  14: "host precedence violation",
  15: "precedence cutoff",
};
export const ICMP_TIME_EXCEEDED_CODES: Readonly<Record<number, string>> = {
  0: "time exceeded in-transit",
  1: "ip reassembly time exceeded",
};
export const ICMP_REDIRECT_CODES: Readonly<Record<number, string>> = {
  0: "redirect net",
  1: "redirect host",
  2: "redirect tos net",
  3: "redirect tos host",
};

/** ICMPv6 (RFC 4443, 4861, 3810). */
export const ICMPV6_TYPES: Readonly<Record<number, string>> = {
  1: "destination unreachable",
  2: "packet too big",
  3: "time exceeded",
  4: "parameter problem",
  128: "echo request",
  129: "echo reply",
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
  137: "redirect",
  143: "multicast listener report v2",
};
export const ICMPV6_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_UNREACH_CODES: Readonly<Record<number, string>> = {
  0: "no route",
  1: "administratively prohibited",
  2: "beyond scope",
  3: "address unreachable",
  4: "port unreachable",
  5: "source address failed policy",
  6: "reject route",
};
export const ICMPV6_TIME_EXCEEDED_CODES: Readonly<Record<number, string>> = {
  0: "hop limit exceeded in-transit",
  1: "fragment reassembly time exceeded",
};

/** ARP operations (RFC 826, 903). */
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
