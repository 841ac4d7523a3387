// The offsets the selection reads through (program/selection.ts), from this kernel's BTF: the packet's
// place in the skb, its device's index, name and namespace, and a socket's namespace.
import type { Btf } from "../btf/btf.js";
import { UserError } from "../core/errors.js";
import type { SkbLayout } from "../program/selection.js";

/** `netns`: the namespace offsets are needed (a kernel without network namespaces has none). */
export function skbLayout(btf: Btf, netns: boolean): SkbLayout {
  const at = (t: string, m: string) => btf.offsetof(t, m);
  // skb->tail is an offset from head (sk_buff_data_t is an unsigned int on 64-bit kernels).
  if (btf.sizeof("sk_buff_data_t") !== 4)
    throw new UserError("packet filters need a 64-bit kernel (skb->tail is not an offset here)");
  let devNet = -1;
  let skNet = -1;
  let netInum = -1;
  if (netns) {
    try {
      // possible_net_t has its `net` pointer only in kernels built with network namespaces.
      devNet = at("net_device", "nd_net") + at("possible_net_t", "net");
      skNet = at("sock", "__sk_common.skc_net") + at("possible_net_t", "net");
      netInum = at("net", "ns") + at("ns_common", "inum");
    } catch (e) {
      throw new UserError(
        `--netns: this kernel's BTF says nothing of a device's namespace (${(e as Error).message})`,
      );
    }
  }
  return {
    len: at("sk_buff", "len"),
    data: at("sk_buff", "data"),
    head: at("sk_buff", "head"),
    tail: at("sk_buff", "tail"),
    macHeader: at("sk_buff", "mac_header"),
    networkHeader: at("sk_buff", "network_header"),
    dev: at("sk_buff", "dev"),
    sk: at("sk_buff", "sk"),
    devIfindex: at("net_device", "ifindex"),
    devName: at("net_device", "name"),
    devNet,
    skNet,
    netInum,
  };
}
