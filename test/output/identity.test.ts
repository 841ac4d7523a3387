// Each packet's identity in the writers (output/identity-notes.ts): the identity part's headers and device
// on the packet's first line, a change of device, namespace or address where it first shows, nothing on
// an event that says nothing new, and all of it off with `identity: false`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { IDENTITY, readIdentity } from "../../src/record/parts/index.js";
import { LINK_NETWORK } from "../../src/record/record.js";
import { type Ev, IP_RCV, records, run, UDP_RCV } from "./records.js";

/** An IPv4 UDP datagram from src:5000 to 10.0.0.2:9 with 2 bytes of payload. */
function udp(src: number[]): number[] {
  return [
    0x45,
    0,
    0,
    30,
    0,
    1,
    0x40,
    0,
    64,
    17,
    0,
    0,
    ...src,
    10,
    0,
    0,
    2,
    0x13,
    0x88,
    0,
    9,
    0,
    10,
    0,
    0,
    0x68,
    0x69,
  ];
}
const NS_A = 1_000_001;
const NS_B = 1_000_002;
const first = {
  bytes: udp([10, 0, 0, 1]),
  link: LINK_NETWORK,
  device: { ifindex: 3, netns: NS_A, name: "veth0" },
};
const EVS: Ev[] = [
  { skb: 0x10n, ts: 1n, func: IP_RCV, cpu: 0, track: 5n, identity: first },
  { skb: 0x10n, ts: 2n, func: IP_RCV, cpu: 0, track: 5n },
  // The same identity again: nothing to say.
  { skb: 0x10n, ts: 3n, func: IP_RCV, cpu: 0, track: 5n, identity: first },
  // Another device in another namespace, the source rewritten.
  {
    skb: 0x10n,
    ts: 4n,
    func: UDP_RCV,
    cpu: 0,
    track: 5n,
    identity: {
      bytes: udp([10, 9, 9, 9]),
      link: LINK_NETWORK,
      device: { ifindex: 7, netns: NS_B, name: "eth1" },
    },
  },
];
const HEAD = `IP 10.0.0.1.5000 > 10.0.0.2.9: UDP, length 2 | veth0@netns:${NS_A}`;
const CHANGE = `-> dev eth1@netns:${NS_B}; nat src 10.0.0.1 -> 10.9.9.9`;

test("the identity part reads back what the record holds", () => {
  const dv = records([EVS[0]!, EVS[1]!]);
  const id = readIdentity(dv, 0)!;
  assert.deepEqual([...id.bytes], first.bytes);
  assert.equal(id.link, LINK_NETWORK);
  assert.deepEqual(id.device, first.device);
  assert.equal(readIdentity(dv, 128 + IDENTITY.size(dv, 0)), undefined);
});

test("aggregate: the identity on the === line, the change on the event where it shows", () => {
  const { out } = run("aggregate", EVS);
  const lines = out.split("\n");
  assert.match(lines[1]!, new RegExp(`^=== packet 1, skb 0x10 : ${HEAD.replace(/[.|]/g, "\\$&")}$`));
  assert.ok(!lines[2]!.includes("->") && !lines[3]!.includes("->") && !lines[4]!.includes("->"), out);
  assert.ok(lines[5]!.endsWith(` ${CHANGE}`), out);
});

test("stream: the identity on the packet's first line, the change on its line", () => {
  const { out } = run("stream", EVS);
  const lines = out.trim().split("\n");
  assert.ok(lines[0]!.endsWith(` ${HEAD}`), out);
  assert.ok(!lines[1]!.includes("|") && !lines[2]!.includes("|"), out);
  assert.ok(lines[3]!.endsWith(` ${CHANGE}`), out);
});

test("json: identity and packet_identity on the first event, changed where it changed", () => {
  const { out } = run("json", EVS);
  const objs = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(objs[0].identity, HEAD);
  assert.equal(objs[0].packet_identity.ifname, "veth0");
  assert.equal(objs[0].packet_identity.netns, NS_A);
  assert.equal(objs[0].packet_identity.netns_name, `netns:${NS_A}`);
  assert.deepEqual(
    objs[0].packet_identity.headers.map((h: { kind: string }) => h.kind),
    ["ipv4", "udp"],
  );
  assert.equal(objs[1].identity, undefined);
  assert.equal(objs[2].changed, undefined);
  assert.deepEqual(objs[3].changed.src, { from: "10.0.0.1", to: "10.9.9.9" });
  assert.equal(objs[3].changed.ifname, "eth1");
  assert.equal(objs[3].changed.text, CHANGE);
});

test("identity: false leaves every output as it was without the part", () => {
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const plain = run(
      kind,
      EVS.map(({ identity: _, ...e }) => e),
    ).out;
    assert.equal(run(kind, EVS, { identity: false }).out, plain, kind);
  }
});

// A marked packet: its mark after its device, then cleared crossing a veth into another namespace (a new
// device and mark), then set again on the same device (the mark alone is new).
const MARKED: Ev[] = [
  { skb: 0x20n, ts: 1n, func: IP_RCV, cpu: 0, track: 6n, identity: { ...first, mark: 0x2a } },
  {
    skb: 0x20n,
    ts: 2n,
    func: IP_RCV,
    cpu: 0,
    track: 6n,
    identity: { ...first, device: { ifindex: 7, netns: NS_B, name: "eth1" }, mark: 0 },
  },
  {
    skb: 0x20n,
    ts: 3n,
    func: UDP_RCV,
    cpu: 0,
    track: 6n,
    identity: { ...first, device: { ifindex: 7, netns: NS_B, name: "eth1" }, mark: 7 },
  },
];
const MARKED_HEAD = `IP 10.0.0.1.5000 > 10.0.0.2.9: UDP, length 2 | veth0@netns:${NS_A} mark 0x2a`;
const CLEARED = `-> dev eth1@netns:${NS_B}; mark 0x2a -> 0x0`;
const SET = "mark 0x0 -> 0x7";

test("the mark: after the device where it is not 0, a new one shown as a change, in every format", () => {
  assert.equal(readIdentity(records(MARKED), 0)!.mark, 0x2a);
  const agg = run("aggregate", MARKED).out.split("\n");
  assert.ok(agg[1]!.endsWith(` : ${MARKED_HEAD}`), agg.join("\n"));
  assert.ok(agg[3]!.endsWith(` ${CLEARED}`), agg.join("\n"));
  assert.ok(agg[4]!.endsWith(` ${SET}`), agg.join("\n"));
  const stream = run("stream", MARKED).out.trim().split("\n");
  assert.ok(stream[0]!.endsWith(` ${MARKED_HEAD}`), stream.join("\n"));
  assert.ok(stream[1]!.endsWith(` ${CLEARED}`), stream.join("\n"));
  assert.ok(stream[2]!.endsWith(` ${SET}`), stream.join("\n"));
  const objs = run("json", MARKED)
    .out.trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(objs[0].identity, MARKED_HEAD);
  assert.equal(objs[0].packet_identity.mark, 0x2a);
  assert.deepEqual(objs[1].changed.mark, { from: 0x2a, to: 0 });
  assert.equal(objs[1].changed.text, CLEARED);
  assert.deepEqual(objs[2].changed, { mark: { from: 0, to: 7 }, text: SET });
});

test("a mark of 0 says nothing: no mark on the identity line", () => {
  assert.equal(
    run("json", EVS)
      .out.split("\n")
      .map((l) => l && JSON.parse(l))[0].packet_identity.mark,
    0,
  );
  assert.ok(!run("aggregate", EVS).out.includes("mark"));
});

test("a function's return and a device-less identity after a device are no change", () => {
  const gone = { bytes: first.bytes, link: LINK_NETWORK, device: { ifindex: 0, netns: 0, name: "" } };
  const evs: Ev[] = [
    { skb: 0x10n, ts: 1n, func: IP_RCV, cpu: 0, track: 5n, identity: first },
    // function_graph's return of udp_rcv: the skb has no device any more.
    { skb: 0x10n, ts: 2n, func: UDP_RCV, cpu: 0, track: 5n, ret: true, identity: EVS[3]!.identity! },
    { skb: 0x10n, ts: 3n, func: UDP_RCV, cpu: 0, track: 5n, identity: gone },
  ];
  const out = run("stream", evs).out.trimEnd().split("\n");
  assert.equal(out.length, 3);
  assert.ok(out[0]!.endsWith(HEAD), out[0]);
  assert.ok(!out[1]!.includes("->") && !out[2]!.includes("->"), out.join("\n"));
});

test("a device-less event whose mark or addresses changed shows the change where it stays (no move)", () => {
  // A UDP datagram queued to its socket: skb->dev holds UDP's scratch, read as no device.
  const gone = { bytes: udp([10, 0, 0, 9]), link: LINK_NETWORK, device: { ifindex: 0, netns: 0, name: "" } };
  const evs: Ev[] = [
    { skb: 0x10n, ts: 1n, func: IP_RCV, cpu: 0, track: 5n, identity: first },
    { skb: 0x10n, ts: 2n, func: UDP_RCV, cpu: 0, track: 5n, identity: { ...gone, mark: 0x2c } },
  ];
  const out = run("stream", evs).out.trimEnd().split("\n");
  assert.equal(out.length, 2);
  assert.ok(out[1]!.endsWith(" mark 0x0 -> 0x2c; nat src 10.0.0.1 -> 10.0.0.9"), out.join("\n"));
});
