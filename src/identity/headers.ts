// A packet's identity: the headers read from its bytes, outermost first. A tunnel's header is followed by
// the headers of the packet it carries, so the list reads as the packet is nested. Fields are numbers and
// address texts, ready to print or compare (a NAT rewrite is a different address or port at a later
// event).

export interface Ethernet {
  kind: "ethernet";
  src: string;
  dst: string;
  /** The EtherType after the tags (or an 802.3 length, < 0x600). */
  type: number;
}

export interface Vlan {
  kind: "vlan";
  /** 0x8100 (802.1Q) or 0x88a8 (802.1ad, the outer tag of QinQ). */
  tpid: number;
  id: number;
  pcp: number;
  type: number;
}

export interface Arp {
  kind: "arp";
  op: number;
  /** Addresses when the ARP is Ethernet over IPv4 (hardware type 1, protocol 0x0800), else absent. */
  senderMac?: string;
  senderIp?: string;
  targetMac?: string;
  targetIp?: string;
}

export interface Fragment {
  id: number;
  /** In bytes. */
  offset: number;
  more: boolean;
}

export interface Ipv4 {
  kind: "ipv4";
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
  /** The header's total length (the packet's length from this header on). */
  length: number;
  /** The header's own length (20 + options). */
  headerLength: number;
  id: number;
  tos: number;
  /** Only on a fragment (an offset or more fragments). */
  fragment?: Fragment;
}

export interface Ipv6 {
  kind: "ipv6";
  src: string;
  dst: string;
  /** The upper-layer protocol, after the extension headers. */
  protocol: number;
  hopLimit: number;
  /** 40 + the payload length. */
  length: number;
  flowLabel: number;
  fragment?: Fragment;
}

/** TCP flag bits (the header's byte 13). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export interface Ports {
  sport: number;
  dport: number;
}

export interface Tcp extends Ports {
  kind: "tcp";
  /** Absent when the bytes end after the ports. */
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** The payload's length (from the IP header's length), when the IP header gave one. */
  payload?: number;
}

export interface Udp extends Ports {
  kind: "udp" | "udplite" | "sctp";
  /** UDP's payload length from its header (absent for SCTP and when cut). */
  payload?: number;
}

export interface Icmp {
  kind: "icmp" | "icmp6";
  type: number;
  code: number;
  /** Echo request and reply (and ICMP's other queries: timestamp, information, address mask). */
  id?: number;
  seq?: number;
  /** Fragmentation needed (ICMP) and packet too big (ICMPv6). */
  mtu?: number;
  /** ICMPv6 neighbor solicitation and advertisement, ICMP redirect's gateway. */
  target?: string;
  /** The ICMP message's length (from the IP header). */
  length?: number;
  /** Error messages: the start of the packet that caused it, as quoted in the message. */
  quoted?: PacketIdentity;
}

export interface Vxlan {
  kind: "vxlan";
  vni: number;
}

export interface Geneve {
  kind: "geneve";
  vni: number;
  protocol: number;
}

export interface Gre {
  kind: "gre";
  version: number;
  protocol: number;
  key?: number;
}

/** A protocol ipft does not decode, by its EtherType or IP protocol number. */
export interface Other {
  kind: "other";
  layer: "ethertype" | "ip";
  number: number;
  /** The bytes from this header on, as far as known: the IP payload's length, or the bytes captured. */
  length: number;
}

export type Header = Ethernet | Vlan | Arp | Ipv4 | Ipv6 | Tcp | Udp | Icmp | Vxlan | Geneve | Gre | Other;

export interface PacketIdentity {
  headers: Header[];
  /** How many bytes were decoded from. */
  captured: number;
  /** Where decoding stopped early: the header the bytes ended in ("truncated"), or one that made no sense
   * ("malformed", with why). */
  stop?: { header: string; why: "truncated" | "malformed"; detail?: string };
}
