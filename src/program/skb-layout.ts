// The offsets (bytes, from this kernel's BTF: session/skb-layout.ts) the programs read the kernel's
// structures through. The packet's and the device's are the record's parts' own (record/parts/); the
// selection and the tracking read both.
import type { DeviceLayout } from "../record/parts/device.js";
import type { PacketLayout } from "../record/parts/packet.js";

export type { DeviceLayout, PacketLayout };

/** Both: what the selection and the tracking read. */
export interface SkbLayout extends PacketLayout, DeviceLayout {}
