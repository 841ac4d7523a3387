// The device part (-w): which device the packet was on at this event, and in which network namespace, so
// the trace file has an interface per device, namespace and link type. 24 bytes, when the record's flags
// have FLAG_DEVICE:
//   +0 u32 ifindex (skb->dev->ifindex, or at a tracepoint given the device as an argument, net_dev_xmit,
//      that device's: plan/device-args.ts; 0: no device)
//   +4 u32 netns: the inode of skb->dev's network namespace, else of skb->sk's when the skb has no device
//      yet (a packet built locally), 0 when neither (or the kernel has no namespaces)
//   +8 char[16] the device's name (skb->dev->name), NUL-padded; all zero without a device
// In the kernel: FLAG_DEVICE is set in the reserved record, the part zeroed, then skb->dev's ifindex and
// name read into it, and the namespace's inode: of skb->dev's namespace, else (no device yet) of skb->sk's.
// A failed read leaves what it was to read zero. json prints `"ifname"` ("" without a device), `"ifindex"`
// and `"netns"`, after every other part's keys; the trace file keeps the 24 bytes in ipft's event option
// and names the block's interface after the device (deviceInterface()).
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R2, R3, R6, R7, R8, R9, R10 } from "../../asm/opcodes.js";
import { FLAG_DEVICE, OFF_FLAGS } from "../record.js";
import { definePart, type EventPart, type FillContext, SCRATCH, SCRATCH_SPAN } from "./part.js";

/** The part's length (a multiple of 8: what follows stays 8-aligned). */
export const DEVICE_SIZE = 24;
export const DEV_IFINDEX = 0;
export const DEV_NETNS = 4;
export const DEV_NAME = 8;
export const DEV_NAME_SIZE = 16;

/** Offsets the device part is read through (program/selection.ts's SkbLayout extends it): struct
 * sk_buff's dev and sk, struct net_device's ifindex, name and nd_net.net, struct sock's skc_net.net,
 * struct net's ns.inum. The three namespace offsets are -1 on a kernel without namespaces (netns 0). */
export interface DeviceLayout {
  dev: number;
  sk: number;
  devIfindex: number;
  devName: number;
  devNet: number;
  skNet: number;
  netInum: number;
}

/** The device part's values. `name` is "" without a device. */
export interface DeviceInfo {
  ifindex: number;
  netns: number;
  name: string;
}

const JSON_KEYS = ["ifname", "ifindex", "netns"] as const;
const [K_IFNAME, K_IFINDEX, K_NETNS] = JSON_KEYS.map((k) => JSON.stringify(k));

/** The part at `at` (from the record's start `off`). */
export function deviceAt(dv: DataView, off: number, at: number): DeviceInfo {
  const p = off + at;
  let name = "";
  for (let i = 0; i < DEV_NAME_SIZE; i++) {
    const c = dv.getUint8(p + DEV_NAME + i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return { ifindex: dv.getUint32(p + DEV_IFINDEX, true), netns: dv.getUint32(p + DEV_NETNS, true), name };
}

/** The trace file's interface for events on this device (`bytes`: whether they carry packet bytes), its
 * namespace named when `netnsName` is given (quoted: `netns 4026532304 "router" ifindex 2`). */
export function deviceInterface(
  d: DeviceInfo,
  bytes: boolean,
  netnsName?: string,
): { name: string; description: string } {
  const what = bytes ? "" : ", ipft trace events without packet bytes";
  const ns = `netns ${d.netns}${netnsName ? ` ${JSON.stringify(netnsName)}` : ""}`;
  return d.name === ""
    ? { name: "ipft", description: `${ns} (no device)${what}` }
    : { name: d.name, description: `${ns} ifindex ${d.ifindex}${what}` };
}

export const DEVICE: EventPart = definePart({
  name: "device",
  json: JSON_KEYS,
  jsonLast: true,
  size: (dv, off) => ((dv.getUint32(off + OFF_FLAGS, true) & FLAG_DEVICE) !== 0 ? DEVICE_SIZE : 0),
  room: (req) => (req.device ? DEVICE_SIZE : 0),
  runTimeSize: false,
  fill: (ctx) => fillDevice(ctx, ctx.req.device!, ctx.start, "extras_dev_", FLAG_DEVICE),
  printJson(dv, off, at) {
    const d = deviceAt(dv, off, at);
    return `,${K_IFNAME}:${JSON.stringify(d.name)},${K_IFINDEX}:${d.ifindex},${K_NETNS}:${d.netns}`;
  },
  file: "option",
});

/** The device's 24 bytes at `D` in the reservation (labels start with `prefix`; `flag`, when not 0, is
 * set in the record's flags: the identity part fills its own copy with 0). With R6 = ctx, R8 = the
 * reservation, R7 = skb; uses R9 and the scratch area, leaves R9 = 0. Falls through. The device's ifindex, name and namespace pointer sit within a few dozen bytes of each other in
 * today's net_device: one probe read takes them all when they do (placeReads). */
export function fillDevice(
  ctx: FillContext,
  l: DeviceLayout,
  D: number,
  prefix: string,
  flag: number,
): Insn[] {
  const { probeRead, devArg } = ctx;
  if (ctx.varRoom > 0) throw new Error("the device part must come before the parts of run-time size");
  const L = (name: string) => `${prefix}${name}`;
  // R9 = *(u64 *)(src + off) through the scratch area; a failed read or NULL goes to `none`.
  const ptr = (src: number, off: number, none: string): Insn[] => [
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, SCRATCH),
    asm.mov64Imm(R2, 8),
    asm.mov64Reg(R3, src),
    asm.alu64Imm(asm.ADD, R3, off),
    asm.call(probeRead),
    asm.jmpImm(asm.JNE, R0, 0, none),
    asm.ldxMem(asm.DW, R9, R10, SCRATCH),
    asm.jmpImm(asm.JEQ, R9, 0, none),
  ];
  const netns = l.devNet >= 0 && l.skNet >= 0 && l.netInum >= 0;
  // The name is copied as two u64 words when it is 8-aligned in net_device (it is), else read on its own.
  const nameWords = l.devName % 8 === 0;
  const fields: { off: number; size: 4 | 8 }[] = [{ off: l.devIfindex, size: 4 }];
  if (nameWords) fields.push({ off: l.devName, size: 8 }, { off: l.devName + 8, size: 8 });
  if (netns) fields.push({ off: l.devNet, size: 8 });
  const area = { start: SCRATCH + 8, end: SCRATCH + SCRATCH_SPAN };
  let plan: ReturnType<FillContext["placeReads"]>;
  try {
    plan = ctx.placeReads(fields, area);
  } catch {
    // Too far apart to share reads within the scratch area: one read per field.
    plan = { reads: [], slot: new Map() };
    fields.forEach((f, i) => {
      plan.reads.push({ skbOff: f.off, size: f.size, at: area.start + 8 * i });
      plan.slot.set(f.off, area.start + 8 * i);
    });
  }
  const slot = (off: number): number => plan.slot.get(off)!;
  const p: Insn[] =
    flag === 0
      ? []
      : [
          asm.ldxMem(asm.W, R1, R8, OFF_FLAGS),
          asm.alu32Imm(asm.OR, R1, flag),
          asm.stxMem(asm.W, R8, R1, OFF_FLAGS),
        ];
  for (let k = 0; k < DEVICE_SIZE; k += 8) p.push(asm.stMem(asm.DW, R8, D + k, 0));
  const noDev = netns ? L("sk") : L("done");
  if (devArg !== undefined) p.push(asm.ldxMem(asm.DW, R9, R6, 8 * devArg), asm.jmpImm(asm.JEQ, R9, 0, noDev));
  else p.push(...ptr(R7, l.dev, noDev));
  for (const r of plan.reads) p.push(...ctx.probeReadInto(r.at, r.size, R9, r.skbOff, probeRead, L("done")));
  p.push(asm.ldxMem(asm.W, R1, R10, slot(l.devIfindex)), asm.stxMem(asm.W, R8, R1, D + DEV_IFINDEX));
  if (nameWords)
    p.push(
      asm.ldxMem(asm.DW, R1, R10, slot(l.devName)),
      asm.stxMem(asm.DW, R8, R1, D + DEV_NAME),
      asm.ldxMem(asm.DW, R1, R10, slot(l.devName + 8)),
      asm.stxMem(asm.DW, R8, R1, D + DEV_NAME + 8),
    );
  else
    p.push(
      asm.mov64Reg(R1, R8),
      asm.alu64Imm(asm.ADD, R1, D + DEV_NAME),
      asm.mov64Imm(R2, DEV_NAME_SIZE),
      asm.mov64Reg(R3, R9),
      asm.alu64Imm(asm.ADD, R3, l.devName),
      asm.call(probeRead),
    );
  if (netns) {
    p.push(
      asm.ldxMem(asm.DW, R9, R10, slot(l.devNet)),
      asm.jmpImm(asm.JEQ, R9, 0, L("done")),
      asm.ja(L("inum")),
      asm.label(L("sk"), asm.mov64Reg(R0, R0)),
      ...ptr(R7, l.sk, L("done")),
      ...ptr(R9, l.skNet, L("done")),
      asm.label(L("inum"), asm.mov64Reg(R1, R8)),
      asm.alu64Imm(asm.ADD, R1, D + DEV_NETNS),
      asm.mov64Imm(R2, 4),
      asm.mov64Reg(R3, R9),
      asm.alu64Imm(asm.ADD, R3, l.netInum),
      asm.call(probeRead),
    );
  }
  p.push(asm.label(L("done"), asm.mov64Imm(R9, 0)));
  return p;
}
