// The offsets the programs read through (program/skb-layout.ts), from this kernel's BTF: the packet's
// place in the skb, checked for the sizes the programs read (a kernel whose sk_buff keeps tail as a pointer,
// a 32-bit kernel, or has other header offsets cannot be read this way), and the device's.
import type { Btf } from "../btf/btf.js";
import { findComposite } from "../btf/queries.js";
import { UserError } from "../core/errors.js";
import type { PacketLayout, SkbLayout } from "../program/skb-layout.js";
import { deviceLayout, NO_NETNS, netnsOffsets } from "./device-layout.js";

/** `who`: the options that need it, for the message when this kernel's sk_buff does not fit. */
export function packetLayout(btf: Btf, who: string): PacketLayout {
  const sk = findComposite(btf, "struct sk_buff");
  const field = (name: string, size: number): number => {
    const m = btf.member(sk, name);
    const got = m && m.bitSize === 0 ? btf.size(m.type) : -1;
    if (!m || got !== size)
      throw new UserError(
        `${who}: this kernel's sk_buff.${name} is ${m ? `${got} bytes` : "missing"}, not the ${size} bytes ipft reads (not supported on this kernel)`,
      );
    return m.absBitOffset / 8;
  };
  return {
    len: field("len", 4),
    head: field("head", 8),
    data: field("data", 8),
    tail: field("tail", 4),
    macHeader: field("mac_header", 2),
    networkHeader: field("network_header", 2),
  };
}

/** The selection's offsets. `netns`: the namespace offsets are needed (a kernel without network
 * namespaces has none). */
export function skbLayout(btf: Btf, netns: boolean): SkbLayout {
  let ns = NO_NETNS;
  if (netns) {
    const n = netnsOffsets(btf);
    if ("missing" in n)
      throw new UserError(`--netns: this kernel's BTF says nothing of a device's namespace (${n.missing})`);
    ns = n;
  }
  return {
    ...packetLayout(btf, "packet filters, devices, namespaces and tracking"),
    ...deviceLayout(btf, ns),
  };
}
