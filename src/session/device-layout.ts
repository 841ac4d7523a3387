// The offsets the record's device part is read through (program/extras.ts), from this kernel's BTF: the
// device's index, name and namespace, and a socket's namespace. A kernel without network namespaces gets
// -1 for those three (the part's netns is then 0).
import type { Btf } from "../btf/btf.js";
import type { DeviceLayout } from "../program/extras.js";

export function deviceLayout(btf: Btf): DeviceLayout {
  const at = (t: string, m: string) => btf.offsetof(t, m);
  let devNet = -1;
  let skNet = -1;
  let netInum = -1;
  try {
    // possible_net_t has its `net` pointer only in kernels built with network namespaces.
    devNet = at("net_device", "nd_net") + at("possible_net_t", "net");
    skNet = at("sock", "__sk_common.skc_net") + at("possible_net_t", "net");
    netInum = at("net", "ns") + at("ns_common", "inum");
  } catch {
    devNet = skNet = netInum = -1;
  }
  return {
    dev: at("sk_buff", "dev"),
    sk: at("sk_buff", "sk"),
    devIfindex: at("net_device", "ifindex"),
    devName: at("net_device", "name"),
    devNet,
    skNet,
    netInum,
  };
}
