// The offsets (bytes, from this kernel's BTF: session/skb-layout.ts) the programs read the kernel's
// structures through, defined once for the selection and the record's parts.

/** struct sk_buff's len (u32), head and data (pointers), tail (a u32 offset from head), mac_header and
 * network_header (u16 offsets from head): where the packet's bytes are. */
export interface PacketLayout {
  len: number;
  head: number;
  data: number;
  tail: number;
  macHeader: number;
  networkHeader: number;
}

/** struct sk_buff's dev and sk, struct net_device's ifindex, name and nd_net.net, struct sock's
 * skc_net.net, struct net's ns.inum: the device and the namespace. The three namespace offsets are -1 on a
 * kernel without namespaces. */
export interface DeviceLayout {
  dev: number;
  sk: number;
  devIfindex: number;
  devName: number;
  devNet: number;
  skNet: number;
  netInum: number;
}

/** Both: what the selection and the tracking read. */
export interface SkbLayout extends PacketLayout, DeviceLayout {}
