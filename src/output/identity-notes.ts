// What the writers say of a packet's identity (record/parts/identity.ts): at the event where its identity
// first comes, what it is (the decoded headers, tcpdump-worded: src/identity) and where (device@namespace);
// at a later event whose identity differs, what changed: a new device or namespace, a rewritten address or
// port (NAT), a tunnel or VLAN entered or left, a new mark (skb->mark: set by a rule, or cleared crossing a
// veth into another namespace). The kernel takes the part again where the device or the packet's look (its
// addresses, ports and mark) changed, so a change shows at the first event that sees it. The writers call
// these hooks from their own small places
// (aggregate: the `===` line and the event's line, stream: the line, json: keys), and `identity: false`
// turns them all off (ipftrace2's layout). Namespace names are looked up once per namespace.
import {
  changesText,
  decodePacket,
  type IdentityChange,
  identityChanges,
  identityText,
  NamespaceNames,
  type PacketIdentity,
} from "../identity/index.js";
import { type DeviceInfo, type IdentityInfo, readIdentity } from "../record/parts/index.js";
import { FLAG_IDENTITY, FLAG_RETURN, readFlags } from "../record/record.js";

/** Packets whose last identity is remembered at most (the oldest is forgotten first). */
const MAX_PACKETS = 1 << 16;

/** What an event says of its packet's identity. */
export interface IdentityNote {
  /** The packet's first identity (else a change of it). */
  first: boolean;
  identity: PacketIdentity;
  device: DeviceInfo;
  /** `dev@namespace`. */
  where: string;
  /** The namespace's name (NamespaceNames). */
  namespace: string;
  /** skb->mark. */
  mark: number;
  /** A change: the device or namespace is new. */
  moved: boolean;
  /** A change: the mark before it, where the mark is new. */
  markWas?: number;
  changes: IdentityChange[];
}

interface Last {
  identity: PacketIdentity;
  device: DeviceInfo;
  mark: number;
}

export class IdentityNotes {
  private readonly last = new Map<number, Last>();
  private readonly places = new Map<string, string>();
  private readonly nsNames = new Map<number, string>();

  constructor(private readonly names: { text(inode: number): string } = new NamespaceNames()) {}

  /** The event's note (call once per event, in its packet's order), or undefined: no identity part, or
   * one that says nothing new. */
  note(dv: DataView, off: number, packet: number): IdentityNote | undefined {
    const flags = readFlags(dv, off);
    // A function's return says nothing new of the packet (older trace files may have the part there).
    if ((flags & FLAG_IDENTITY) === 0 || (flags & FLAG_RETURN) !== 0) return undefined;
    const info: IdentityInfo | undefined = readIdentity(dv, off);
    if (!info) return undefined;
    const { mark } = info;
    const before = this.last.get(packet);
    // A packet that had a device and has none now (its skb being let go of, or skb->dev reused: UDP keeps
    // its own scratch there once queued to a socket) was not moved: it stays where it was, and its headers
    // and mark are still compared.
    const device =
      before && info.device.ifindex === 0 && info.device.netns === 0 ? before.device : info.device;
    const identity = decodePacket(info.bytes, info.link);
    if (before) this.last.delete(packet);
    else if (this.last.size >= MAX_PACKETS) this.last.delete(this.last.keys().next().value!);
    this.last.set(packet, { identity, device, mark });
    const where = this.where(device);
    const namespace = this.nsName(device.netns);
    if (!before) return { first: true, identity, device, where, namespace, mark, moved: false, changes: [] };
    const moved = before.device.ifindex !== device.ifindex || before.device.netns !== device.netns;
    const changes = identityChanges(before.identity, identity);
    const markNew = before.mark !== mark;
    if (!moved && !markNew && changes.length === 0) return undefined;
    return {
      first: false,
      identity,
      device,
      where,
      namespace,
      mark,
      moved,
      changes,
      ...(markNew ? { markWas: before.mark } : {}),
    };
  }

  private nsName(inode: number): string {
    let t = this.nsNames.get(inode);
    if (t === undefined) {
      t = this.names.text(inode);
      this.nsNames.set(inode, t);
    }
    return t;
  }

  private where(d: DeviceInfo): string {
    const key = `${d.name}/${d.netns}`;
    let w = this.places.get(key);
    if (w === undefined) {
      w = `${d.name || "(no device)"}@${this.nsName(d.netns)}`;
      this.places.set(key, w);
    }
    return w;
  }
}

const hex = (mark: number): string => `0x${mark.toString(16)}`;

/** The text after a packet's `===` line or on its first stream line: `IP 10.0.0.1.5000 > 10.0.0.2.9: UDP,
 * length 8 | veth0@clientns`, and ` mark 0x2a` after it where the mark is not 0. */
export const identityLineText = (n: IdentityNote): string =>
  `${identityText(n.identity)} | ${n.where}${n.mark !== 0 ? ` mark ${hex(n.mark)}` : ""}`;

/** A change's text at the end of the event's line: `-> dev eth1@router`, `mark 0x2a -> 0x0`,
 * `nat src 10.0.0.1 -> 10.0.0.2`, `vlan none -> 10`, joined by `; `. */
export function changeText(n: IdentityNote): string {
  const out: string[] = [];
  if (n.moved) out.push(`-> dev ${n.where}`);
  if (n.markWas !== undefined) out.push(`mark ${hex(n.markWas)} -> ${hex(n.mark)}`);
  const nat = n.changes.filter((c) => c.what !== "vlan" && c.what !== "tunnel");
  const carried = n.changes.filter((c) => c.what === "vlan" || c.what === "tunnel");
  if (carried.length > 0) out.push(changesText(carried));
  if (nat.length > 0) out.push(`nat ${changesText(nat)}`);
  return out.join("; ");
}

/** The note's text on the event's line (stream): the identity on the first, the change after. */
export const noteText = (n: IdentityNote): string => (n.first ? identityLineText(n) : changeText(n));

/** `,"identity":"...","packet_identity":{...}` on the first event; `,"changed":{...}` on a change (a new
 * mark as `"mark":{"from":0,"to":42}`). */
export function noteJson(n: IdentityNote): string {
  const dev = `"ifname":${JSON.stringify(n.device.name)},"ifindex":${n.device.ifindex},"netns":${n.device.netns},"netns_name":${JSON.stringify(n.namespace)}`;
  if (n.first) {
    const stop = n.identity.stop ? `,"stop":${JSON.stringify(n.identity.stop)}` : "";
    return `,"identity":${JSON.stringify(identityLineText(n))},"packet_identity":{"headers":${JSON.stringify(n.identity.headers)}${stop},${dev},"mark":${n.mark}}`;
  }
  const parts: string[] = [];
  if (n.moved) parts.push(dev);
  if (n.markWas !== undefined) parts.push(`"mark":{"from":${n.markWas},"to":${n.mark}}`);
  for (const c of n.changes)
    parts.push(`${JSON.stringify(c.what)}:{"from":${JSON.stringify(c.from)},"to":${JSON.stringify(c.to)}}`);
  parts.push(`"text":${JSON.stringify(changeText(n))}`);
  return `,"changed":{${parts.join(",")}}`;
}
