// The offsets the record's device part (record/parts/device.ts) and the selection's device and namespace tests
// (program/selectors/device.ts) read through, from this kernel's BTF: the device's index, name and namespace, and
// a socket's namespace. A kernel without network namespaces has no namespace offsets.
import type { Btf } from "../btf/btf.js";
import type { DeviceLayout } from "../program/skb-layout.js";

type NetnsOffsets = Pick<DeviceLayout, "devNet" | "skNet" | "netInum">;

/** The three namespace offsets, or why this kernel's BTF has none (BTF's own words). */
export function netnsOffsets(btf: Btf): NetnsOffsets | { missing: string } {
  const at = (t: string, m: string) => btf.offsetof(t, m);
  try {
    // possible_net_t has its `net` pointer only in kernels built with network namespaces.
    return {
      devNet: at("net_device", "nd_net") + at("possible_net_t", "net"),
      skNet: at("sock", "__sk_common.skc_net") + at("possible_net_t", "net"),
      netInum: at("net", "ns") + at("ns_common", "inum"),
    };
  } catch (e) {
    return { missing: (e as Error).message };
  }
}

export const NO_NETNS: NetnsOffsets = { devNet: -1, skNet: -1, netInum: -1 };

/** `ns`: the namespace offsets (NO_NETNS: -1 each, the part's netns is then 0). */
export function deviceLayout(btf: Btf, ns: NetnsOffsets = orNone(netnsOffsets(btf))): DeviceLayout {
  const at = (t: string, m: string) => btf.offsetof(t, m);
  return {
    dev: at("sk_buff", "dev"),
    sk: at("sk_buff", "sk"),
    devIfindex: at("net_device", "ifindex"),
    devName: at("net_device", "name"),
    ...ns,
  };
}

const orNone = (n: NetnsOffsets | { missing: string }): NetnsOffsets => ("missing" in n ? NO_NETNS : n);
