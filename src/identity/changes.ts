// What changed in a packet's identity between two of its events: a rewritten address or port (NAT, the
// innermost packet's, so a tunnel's own addresses do not hide it), a VLAN tag pushed or popped, a tunnel
// entered or left. A later event's identity is compared with the one last shown for the same packet.
import type { Header, Ipv4, Ipv6, PacketIdentity, Ports } from "./headers.js";

export interface IdentityChange {
  /** "src", "dst", "sport", "dport", "vlan" or "tunnel". */
  what: string;
  from: string;
  to: string;
}

const NONE = "none";

/** The innermost IP header and the ports after it (a tunnel's inner packet, else the packet's own). */
function innermost(id: PacketIdentity): { ip?: Ipv4 | Ipv6; ports?: Ports } {
  let ip: Ipv4 | Ipv6 | undefined;
  let ports: Ports | undefined;
  for (const h of id.headers) {
    if (h.kind === "ipv4" || h.kind === "ipv6") {
      ip = h;
      ports = undefined;
    } else if (ip && "sport" in h) ports = h;
  }
  return { ip, ports };
}

function tunnelName(h: Header): string | undefined {
  if (h.kind === "vxlan") return `VXLAN vni ${h.vni}`;
  if (h.kind === "geneve") return `Geneve vni ${h.vni}`;
  if (h.kind === "gre") return h.key === undefined ? "GRE" : `GRE key 0x${h.key.toString(16)}`;
  return undefined;
}

const ipName = (ip: Ipv4 | Ipv6) => (ip.kind === "ipv4" ? "IP" : "IP6");

/** The tunnels a packet is in, outermost first, each with the addresses of the packet carrying it:
 * "VXLAN vni 42 10.1.0.1 > 10.1.0.2". IP directly in IP (IPIP, SIT) is named by its outer IP version. */
export function tunnelsText(id: PacketIdentity): string {
  const out: string[] = [];
  let outer: Ipv4 | Ipv6 | undefined;
  id.headers.forEach((h, i) => {
    if (h.kind === "ipv4" || h.kind === "ipv6") {
      const prev = id.headers[i - 1];
      if (prev && (prev.kind === "ipv4" || prev.kind === "ipv6"))
        out.push(`${ipName(h)} in ${ipName(prev)} ${prev.src} > ${prev.dst}`);
      outer = h;
      return;
    }
    const name = tunnelName(h);
    if (name) out.push(outer ? `${name} ${outer.src} > ${outer.dst}` : name);
  });
  return out.join(", ");
}

const vlans = (id: PacketIdentity) =>
  id.headers
    .filter((h) => h.kind === "vlan")
    .map((h) => (h.kind === "vlan" ? h.id : 0))
    .join(",");

/** The changes from `before` to `after`, in the order a reader wants them: where the packet is carried
 * (VLAN, tunnel), then its addresses and ports. Nothing when the bytes of either did not reach a header
 * (a field unknown on one side is not a change). */
export function identityChanges(before: PacketIdentity, after: PacketIdentity): IdentityChange[] {
  const out: IdentityChange[] = [];
  const add = (what: string, from: string, to: string) => {
    if (from !== to) out.push({ what, from: from || NONE, to: to || NONE });
  };
  if (before.headers[0]?.kind === after.headers[0]?.kind) add("vlan", vlans(before), vlans(after));
  add("tunnel", tunnelsText(before), tunnelsText(after));
  const a = innermost(before);
  const b = innermost(after);
  if (a.ip && b.ip) {
    add("src", a.ip.src, b.ip.src);
    add("dst", a.ip.dst, b.ip.dst);
  }
  if (a.ports && b.ports) {
    add("sport", String(a.ports.sport), String(b.ports.sport));
    add("dport", String(a.ports.dport), String(b.ports.dport));
  }
  return out;
}

/** "src 10.0.0.1 -> 192.168.0.1, sport 40000 -> 1024". */
export function changesText(changes: readonly IdentityChange[]): string {
  return changes.map((c) => `${c.what} ${c.from} -> ${c.to}`).join(", ");
}
