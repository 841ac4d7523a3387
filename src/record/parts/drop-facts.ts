// The drop-facts part: what a drop's explanation needs that can change before user space could read it,
// taken at the drop itself (the kfree_skb verdict event only, never at other events). 136 bytes, when the
// record's flags have FLAG_DROP_FACTS:
//   +0  u32 ifindex of skb->dev (0: no device)
//   +4  u32 netns: the inode of skb->dev's network namespace (0: unknown)
//   +8  char[16] the device's name, NUL-padded
//   +24 u32 the device's MTU
//   +28 u16 the network header's bytes copied below (0: none: no network header, or a failed read)
//   +32 u8[64] the packet from its network header (IPv4/IPv6 header, then ports, TTL...), linear bytes only
// and the socket the packet was for (kfree_skb's rx_sk, since 6.11; a full receive buffer's facts):
//   +96 u8  SOCK_NOT_GIVEN (this kernel's kfree_skb has no rx_sk), SOCK_NONE (it gave none), SOCK_READ
//   +98 u16 its family (AF_INET, AF_INET6), +100 u16 its local port (skc_num)
//   +104 u32 sk_rcvbuf, +108 u32 sk_rmem_alloc (bytes queued), +112 u32 sk_backlog.len
//   +116 u32 its inode (what /proc/PID/fd shows as socket:[INODE]; 0: not read)
//   +120 u8[16] its local address (IPv4: the first 4 bytes; 0.0.0.0: any)
// In the kernel: the flag set, the part zeroed, then each field read on its own (a failed read leaves it
// zero); the header bytes are min(64, tail - network_header). The explanation's facts (explain/facts.ts)
// decode them; json and text print nothing of the part itself, the trace file keeps its bytes in ipft's
// event option (--read explains from them as live).
import { asm, type Insn } from "../../asm/index.js";
import { R0, R1, R2, R3, R6, R7, R8, R9, R10 } from "../../asm/opcodes.js";
import { FLAG_DROP_FACTS, OFF_FLAGS, VERDICT_DROP } from "../record.js";
import { DEV_IFINDEX, DEV_NAME, DEV_NAME_SIZE, DEV_NETNS, type DeviceLayout, deviceAt } from "./device.js";
import type { PacketLayout } from "./packet.js";
import { definePart, type EventPart, type FillContext, SCRATCH } from "./part.js";

export const DROP_FACTS_SIZE = 136;
// The device first, laid out as the device part (device.ts) and read back by its deviceAt.
const F_IFINDEX = DEV_IFINDEX;
const F_NETNS = DEV_NETNS;
const F_NAME = DEV_NAME;
const F_NAME_SIZE = DEV_NAME_SIZE;
const F_MTU = 24;
const F_NET_LEN = 28;
const F_NET = 32;
const F_SOCK = 96;
const F_FAMILY = 98;
const F_PORT = 100;
const F_RCVBUF = 104;
const F_RMEM = 108;
const F_BACKLOG = 112;
const F_INODE = 116;
const F_ADDR = 120;
export const SOCK_NOT_GIVEN = 0;
export const SOCK_NONE = 1;
export const SOCK_READ = 2;
const AF_INET6 = 10;
/** Network header bytes kept: an IPv4 header with options (up to 60) or an IPv6 header, and what
 * follows the plain ones (ports, TCP flags, ICMP type). */
export const DROP_NET_BYTES = 64;

/** The offsets the part reads through: the device's (device.ts, and net_device's mtu) and the skb's
 * head, network_header and tail (packet.ts). */
export interface DropFactsLayout {
  device: DeviceLayout;
  devMtu: number;
  skb: PacketLayout;
  /** Where this kernel has them all (else the socket is not read). */
  sock?: SockLayout;
}

/** struct sock's offsets (sock_common's through __sk_common), and how a socket's inode is found from it
 * (sock_i_ino: the inode next to the socket in their socket_alloc). */
export interface SockLayout {
  family: number;
  num: number;
  rcvSaddr: number;
  /** skc_v6_rcv_saddr (-1: a kernel without IPv6). */
  v6RcvSaddr: number;
  rcvbuf: number;
  /** sk_backlog: its rmem_alloc then its len, 8 bytes. */
  backlog: number;
  socket: number;
  /** offsetof(socket_alloc, vfs_inode) - offsetof(socket_alloc, socket) + offsetof(inode, i_ino). */
  socketIno: number;
}

/** The socket the dropped packet was for. */
export interface DropSock {
  family: number;
  port: number;
  /** The local address's bytes (4 or 16). */
  address: Uint8Array;
  rcvbuf: number;
  queued: number;
  backlog: number;
  /** 0: not read. */
  inode: number;
}

/** The part's values. */
export interface DropFactsInfo {
  ifindex: number;
  netns: number;
  /** "" without a device. */
  name: string;
  mtu: number;
  /** The packet from its network header (a copy), empty when it could not be read. */
  network: Uint8Array;
  /** SOCK_NOT_GIVEN, SOCK_NONE or SOCK_READ (then `sock`). */
  sockState: number;
  sock?: DropSock;
}

/** The part at `at` (from the record's start `off`). */
export function dropFactsAt(dv: DataView, off: number, at: number): DropFactsInfo {
  const p = off + at;
  const len = Math.min(dv.getUint16(p + F_NET_LEN, true), DROP_NET_BYTES);
  const sockState = dv.getUint8(p + F_SOCK);
  const family = dv.getUint16(p + F_FAMILY, true);
  const sock: DropSock | undefined =
    sockState === SOCK_READ
      ? {
          family,
          port: dv.getUint16(p + F_PORT, true),
          address: new Uint8Array(
            dv.buffer,
            dv.byteOffset + p + F_ADDR,
            family === AF_INET6 ? 16 : 4,
          ).slice(),
          rcvbuf: dv.getInt32(p + F_RCVBUF, true),
          queued: dv.getInt32(p + F_RMEM, true),
          backlog: dv.getInt32(p + F_BACKLOG, true),
          inode: dv.getUint32(p + F_INODE, true),
        }
      : undefined;
  return {
    sockState,
    ...(sock ? { sock } : {}),
    ...deviceAt(dv, off, at),
    mtu: dv.getUint32(p + F_MTU, true),
    network: new Uint8Array(dv.buffer, dv.byteOffset + p + F_NET, len).slice(),
  };
}

export const DROP_FACTS: EventPart = definePart({
  name: "drop_facts",
  json: [],
  size: (dv, off) => ((dv.getUint32(off + OFF_FLAGS, true) & FLAG_DROP_FACTS) !== 0 ? DROP_FACTS_SIZE : 0),
  room: (req, verdictKind) => (req.dropFacts && verdictKind === VERDICT_DROP ? DROP_FACTS_SIZE : 0),
  runTimeSize: false,
  fill: (ctx) => fill(ctx),
  printJson: () => "",
  file: "option",
});

type Read = (dst: Insn[], size: number, src: number, off: number, fail?: string) => Insn[];

/** The socket kfree_skb gives (R6 = ctx): its address, port, receive buffer and what it holds, its inode;
 * R9 = the socket. Only drops of received packets with a socket pay the reads. Goes on to drop_facts_dev. */
function sockFill(
  ctx: FillContext,
  k: SockLayout,
  read: Read,
  intoPart: (at: number) => Insn[],
  intoScratch: (at: number) => Insn[],
): Insn[] {
  const D = ctx.start;
  const p: Insn[] = [
    asm.stMem(asm.B, R8, D + F_SOCK, SOCK_NONE),
    asm.ldxMem(asm.DW, R9, R6, ctx.sockArg! * 8),
    asm.jmpImm(asm.JEQ, R9, 0, "drop_facts_dev"),
    asm.stMem(asm.B, R8, D + F_SOCK, SOCK_READ),
    ...read(intoPart(F_FAMILY), 2, R9, k.family),
    ...read(intoPart(F_PORT), 2, R9, k.num),
    ...read(intoPart(F_RCVBUF), 4, R9, k.rcvbuf),
    ...read(intoPart(F_RMEM), 8, R9, k.backlog),
  ];
  if (k.v6RcvSaddr >= 0)
    p.push(
      asm.ldxMem(asm.H, R1, R8, D + F_FAMILY),
      asm.jmpImm(asm.JNE, R1, AF_INET6, "drop_facts_v4"),
      ...read(intoPart(F_ADDR), 16, R9, k.v6RcvSaddr, "drop_facts_ino"),
      asm.ja("drop_facts_ino"),
    );
  const v4 = read(intoPart(F_ADDR), 4, R9, k.rcvSaddr);
  if (k.v6RcvSaddr >= 0) v4[0] = { ...v4[0]!, label: "drop_facts_v4" };
  p.push(...v4);
  // sock_i_ino: sk->sk_socket, then the inode allocated with it.
  const ino = read(intoScratch(0), 8, R9, k.socket, "drop_facts_dev");
  if (k.v6RcvSaddr >= 0) ino[0] = { ...ino[0]!, label: "drop_facts_ino" };
  p.push(
    ...ino,
    asm.ldxMem(asm.DW, R3, R10, SCRATCH),
    asm.jmpImm(asm.JEQ, R3, 0, "drop_facts_dev"),
    ...intoPart(F_INODE),
    asm.mov64Imm(R2, 4),
    asm.alu64Imm(asm.ADD, R3, k.socketIno),
    asm.call(ctx.probeRead),
  );
  return p;
}

/** With R7 = skb, R8 = the reservation; uses R9 and the scratch area, leaves R9 = 0. Falls through. */
function fill(ctx: FillContext): Insn[] {
  const l = ctx.req.dropFacts!;
  const d = l.device;
  const { probeRead } = ctx;
  if (ctx.varRoom > 0) throw new Error("the drop-facts part must come before the parts of run-time size");
  const D = ctx.start;
  // probe_read(dst, size, src + off); a failure goes to `fail` when given.
  const read = (dst: Insn[], size: number, src: number, off: number, fail?: string): Insn[] => [
    ...dst,
    asm.mov64Imm(R2, size),
    asm.mov64Reg(R3, src),
    asm.alu64Imm(asm.ADD, R3, off),
    asm.call(probeRead),
    ...(fail ? [asm.jmpImm(asm.JNE, R0, 0, fail)] : []),
  ];
  const intoPart = (at: number): Insn[] => [asm.mov64Reg(R1, R8), asm.alu64Imm(asm.ADD, R1, D + at)];
  const intoScratch = (at: number): Insn[] => [
    asm.mov64Reg(R1, R10),
    asm.alu64Imm(asm.ADD, R1, SCRATCH + at),
  ];
  const p: Insn[] = [
    asm.ldxMem(asm.W, R1, R8, OFF_FLAGS),
    asm.alu32Imm(asm.OR, R1, FLAG_DROP_FACTS),
    asm.stxMem(asm.W, R8, R1, OFF_FLAGS),
  ];
  for (let k = 0; k < DROP_FACTS_SIZE; k += 8) p.push(asm.stMem(asm.DW, R8, D + k, 0));
  if (ctx.sockArg !== undefined && l.sock) p.push(...sockFill(ctx, l.sock, read, intoPart, intoScratch));
  // The device: R9 = skb->dev.
  const dev = read(intoScratch(0), 8, R7, d.dev, "drop_facts_net");
  dev[0] = { ...dev[0]!, label: "drop_facts_dev" };
  p.push(
    ...dev,
    asm.ldxMem(asm.DW, R9, R10, SCRATCH),
    asm.jmpImm(asm.JEQ, R9, 0, "drop_facts_net"),
    ...read(intoPart(F_IFINDEX), 4, R9, d.devIfindex),
    ...read(intoPart(F_NAME), F_NAME_SIZE, R9, d.devName),
    ...read(intoPart(F_MTU), 4, R9, l.devMtu),
  );
  if (d.devNet >= 0 && d.netInum >= 0)
    p.push(
      ...read(intoScratch(0), 8, R9, d.devNet, "drop_facts_net"),
      asm.ldxMem(asm.DW, R3, R10, SCRATCH),
      asm.jmpImm(asm.JEQ, R3, 0, "drop_facts_net"),
      ...intoPart(F_NETNS),
      asm.mov64Imm(R2, 4),
      asm.alu64Imm(asm.ADD, R3, d.netInum),
      asm.call(probeRead),
    );
  // The network header's bytes: head + network_header, min(64, tail - network_header) of them.
  const s = l.skb;
  p.push(
    { ...intoScratch(0)[0]!, label: "drop_facts_net" },
    intoScratch(0)[1]!,
    asm.mov64Imm(R2, 8),
    asm.mov64Reg(R3, R7),
    asm.alu64Imm(asm.ADD, R3, s.head),
    asm.call(probeRead),
    asm.jmpImm(asm.JNE, R0, 0, "drop_facts_done"),
    ...read(intoScratch(8), 2, R7, s.networkHeader, "drop_facts_done"),
    ...read(intoScratch(16), 4, R7, s.tail, "drop_facts_done"),
    asm.ldxMem(asm.H, R9, R10, SCRATCH + 8),
    asm.jmpImm(asm.JEQ, R9, 0xffff, "drop_facts_done"),
    asm.ldxMem(asm.W, R2, R10, SCRATCH + 16),
    asm.alu64Reg(asm.SUB, R2, R9),
    asm.jmpImm(asm.JSLE, R2, 0, "drop_facts_done"),
    asm.jmpImm(asm.JLE, R2, DROP_NET_BYTES, "drop_facts_len"),
    asm.mov64Imm(R2, DROP_NET_BYTES),
    { ...asm.stxMem(asm.H, R8, R2, D + F_NET_LEN), label: "drop_facts_len" },
    asm.ldxMem(asm.DW, R3, R10, SCRATCH),
    asm.alu64Reg(asm.ADD, R3, R9),
    ...intoPart(F_NET),
    asm.call(probeRead),
    asm.jmpImm(asm.JEQ, R0, 0, "drop_facts_done"),
    asm.stMem(asm.H, R8, D + F_NET_LEN, 0),
    asm.label("drop_facts_done", asm.mov64Imm(R9, 0)),
  );
  return p;
}
