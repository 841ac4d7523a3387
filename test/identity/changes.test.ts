// Changes between two events of one packet: NAT's rewritten addresses and ports, VLAN tags pushed and
// popped, tunnels entered and left; nothing for the same packet, nor for a field only one side has.
import assert from "node:assert/strict";
import { test } from "node:test";
import { changesText, decodePacket, identityChanges, tunnelsText } from "../../src/identity/index.js";
import { LINK_ETHERNET, LINK_NETWORK } from "../../src/record/record.js";
import { type Bytes, ether, gre, ipv4, ipv6, payload, tcp, u8, udp, vxlan } from "./packets.js";

const eth = (b: Bytes) => decodePacket(u8(b), LINK_ETHERNET);
const net = (b: Bytes) => decodePacket(u8(b), LINK_NETWORK);
const syn = (src: string, sport: number, dst = "10.0.0.2", dport = 80) =>
  ipv4(src, dst, 6, tcp(sport, dport, 2));

test("the same packet at two events has no change", () => {
  assert.deepEqual(
    identityChanges(eth(ether(0x0800, syn("10.0.0.1", 40000))), net(syn("10.0.0.1", 40000))),
    [],
  );
});

test("NAT: the rewritten source (masquerade) and destination (DNAT), addresses and ports", () => {
  const before = net(syn("10.0.0.1", 40000));
  const masq = identityChanges(before, net(syn("192.168.1.1", 1024)));
  assert.deepEqual(masq, [
    { what: "src", from: "10.0.0.1", to: "192.168.1.1" },
    { what: "sport", from: "40000", to: "1024" },
  ]);
  assert.equal(changesText(masq), "src 10.0.0.1 -> 192.168.1.1, sport 40000 -> 1024");
  assert.equal(
    changesText(identityChanges(before, net(syn("10.0.0.1", 40000, "172.16.0.5", 8080)))),
    "dst 10.0.0.2 -> 172.16.0.5, dport 80 -> 8080",
  );
  const v6 = (s: string) => net(ipv6(s, "2001:db8::2", 17, udp(1, 2, [])));
  assert.equal(
    changesText(identityChanges(v6("2001:db8::1"), v6("2001:db8::9"))),
    "src 2001:db8::1 -> 2001:db8::9",
  );
});

test("a VLAN tag pushed or popped; not compared when one side has no link-layer header", () => {
  const untagged = eth(ether(0x0800, syn("10.0.0.1", 1)));
  const tagged = eth(ether(0x0800, syn("10.0.0.1", 1), [{ id: 100 }]));
  assert.equal(changesText(identityChanges(untagged, tagged)), "vlan none -> 100");
  assert.equal(changesText(identityChanges(tagged, untagged)), "vlan 100 -> none");
  assert.deepEqual(identityChanges(tagged, net(syn("10.0.0.1", 1))), []);
});

test("a tunnel entered and left, named with its own addresses; the inner packet's tuple compared", () => {
  const inner = syn("192.168.0.1", 5000, "192.168.0.2", 22);
  const plain = net(inner);
  const inVxlan = eth(
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(54321, 4789, vxlan(42, ether(0x0800, inner))))),
  );
  assert.equal(tunnelsText(inVxlan), "VXLAN vni 42 10.1.0.1 > 10.1.0.2");
  assert.deepEqual(identityChanges(plain, inVxlan), [
    { what: "tunnel", from: "none", to: "VXLAN vni 42 10.1.0.1 > 10.1.0.2" },
  ]);
  assert.equal(
    changesText(identityChanges(inVxlan, plain)),
    "tunnel VXLAN vni 42 10.1.0.1 > 10.1.0.2 -> none",
  );
  const inGre = net(ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, inner, { key: 0x2a })));
  assert.equal(tunnelsText(inGre), "GRE key 0x2a 10.1.0.1 > 10.1.0.2");
  assert.equal(tunnelsText(net(ipv4("10.1.0.1", "10.1.0.2", 4, inner))), "IP in IP 10.1.0.1 > 10.1.0.2");
  assert.equal(
    tunnelsText(net(ipv4("10.1.0.1", "10.1.0.2", 41, ipv6("fd00::1", "fd00::2", 59, [])))),
    "IP6 in IP 10.1.0.1 > 10.1.0.2",
  );
  const natInside = net(
    ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, syn("172.16.0.1", 5000, "192.168.0.2", 22), { key: 0x2a })),
  );
  assert.equal(changesText(identityChanges(inGre, natInside)), "src 192.168.0.1 -> 172.16.0.1");
});

test("a field the bytes did not reach on one side is not a change", () => {
  const whole = net(ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, payload(4))));
  const cut = net(ipv4("10.0.0.1", "10.0.0.2", 17, udp(1, 2, payload(4))).slice(0, 22));
  assert.deepEqual(identityChanges(whole, cut), []);
  assert.deepEqual(identityChanges(net([]), whole), []);
});
