// The offsets the selection reads through (program/selection.ts), from this kernel's BTF: the packet's
// place in the skb, its device's index, name and namespace, and a socket's namespace.
import type { Btf } from "../btf/btf.js";
import { UserError } from "../core/errors.js";
import type { SkbLayout } from "../program/selection.js";
import { deviceLayout, NO_NETNS, netnsOffsets } from "./device-layout.js";

/** `netns`: the namespace offsets are needed (a kernel without network namespaces has none). */
export function skbLayout(btf: Btf, netns: boolean): SkbLayout {
  const at = (t: string, m: string) => btf.offsetof(t, m);
  // skb->tail is an offset from head (sk_buff_data_t is an unsigned int on 64-bit kernels).
  if (btf.sizeof("sk_buff_data_t") !== 4)
    throw new UserError("packet filters need a 64-bit kernel (skb->tail is not an offset here)");
  let ns = NO_NETNS;
  if (netns) {
    const n = netnsOffsets(btf);
    if ("missing" in n)
      throw new UserError(`--netns: this kernel's BTF says nothing of a device's namespace (${n.missing})`);
    ns = n;
  }
  return {
    len: at("sk_buff", "len"),
    data: at("sk_buff", "data"),
    head: at("sk_buff", "head"),
    tail: at("sk_buff", "tail"),
    macHeader: at("sk_buff", "mac_header"),
    networkHeader: at("sk_buff", "network_header"),
    ...deviceLayout(btf, ns),
  };
}
