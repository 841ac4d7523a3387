// --capture on real packets: over loopback (SO_MARK) and between two network namespaces over a veth pair
// (nftables `meta mark set`), UDP and TCP; the captured values must be what was sent.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeVethPair, netnsSkipReason, trafficCommand, type VethPair } from "../support/netns.js";
import {
  hostOnlySkipReason,
  ipft,
  jsonLines,
  kernelSkipReason,
  onePassSkipReason,
  ROOT,
  senderArgs,
} from "../support/run.js";
import { tempDir } from "../support/temp-dir.js";

const skip = kernelSkipReason();
const netSkip = skip ?? netnsSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const TP = BACKEND === "tracepoint";
// Where a packet is seen first on transmit (len includes the Ethernet header), where it is received after
// the Ethernet header is pulled, and (functions only) where the receiving namespace, which marks in
// prerouting, delivers it.
const TX = TP ? "net_dev_queue" : "__dev_queue_xmit";
const RX = TP ? "netif_receive_skb" : "__netif_receive_skb";
const DELIVER = "ip_local_deliver";
const SELECT = TP
  ? ["-b", BACKEND]
  : ["-b", BACKEND, "-r", `^(${[TX, RX, DELIVER, "udp_rcv", "tcp_v4_rcv"].join("|")})$`];
const FIELDS = [
  "skb->len",
  "skb->dev->name",
  "ip->saddr",
  "ip->daddr",
  "ip->protocol:enum(IPPROTO)",
  "family=skb->sk->__sk_common.skc_family",
];
const UDP = [...FIELDS, "sport=udp->source", "dport=udp->dest"];
const TCP = [...FIELDS, "sport=tcp->source", "dport=tcp->dest", "tcp->flags"];

type Event = Record<string, string | number | boolean | null>;

function trace(mark: number, captures: string[], command: string[], extra: string[] = []): Event[] {
  const r = ipft([
    ...SELECT,
    "-m",
    String(mark),
    "-o",
    "json",
    ...captures.flatMap((c) => ["--capture", c]),
    ...extra,
    "--",
    ...command,
  ]);
  assert.equal(r.status, 0, r.stderr);
  return jsonLines<Event>(r.stdout);
}

function pick(ev: Event[], want: Event, why: string): Event {
  const hit = ev.find((e) => Object.entries(want).every(([k, v]) => e[k] === v));
  assert.ok(
    hit,
    `${why}: no event with ${JSON.stringify(want)} among\n${ev.map((e) => JSON.stringify(e)).join("\n")}`,
  );
  return hit;
}

test("loopback UDP: length, device, addresses, protocol, ports; the socket is gone (null) once received", {
  skip,
}, () => {
  const ev = trace(0x3a, UDP, senderArgs(0x3a, ["--count", "2", "--size", "100", "--port", "9999"]));
  const lo = { saddr: "127.0.0.1", daddr: "127.0.0.1", protocol: "IPPROTO_UDP", dport: 9999, dev: "lo" };
  const tx = ev.filter((e) => e.function === TX);
  const rx = ev.filter((e) => e.function === RX);
  assert.equal(tx.length, 2, `two datagrams at ${TX}`);
  assert.equal(rx.length, 2, `two datagrams at ${RX}`);
  for (const e of tx)
    pick([e], { ...lo, len: 100 + 8 + 20 + 14, family: 2 }, `${TX} (Ethernet, IPv4, UDP, 100 bytes)`);
  for (const e of rx) pick([e], { ...lo, len: 100 + 8 + 20, family: null }, `${RX} (Ethernet header pulled)`);
  for (const e of ev) {
    assert.equal(typeof e.sport, "number");
    assert.ok((e.sport as number) >= 1024, `source port ${e.sport}`);
    assert.equal(e.sport, ev.find((x) => x.packet_id === e.packet_id)!.sport);
  }
});

test("text output: ( label: value ... ) after each function, labels given or made from the expression", {
  skip: skip ?? hostOnlySkipReason(),
}, () => {
  const r = ipft([
    ...SELECT,
    "-m",
    "0x3b",
    "--capture",
    "skb->len",
    "--capture",
    "dev=skb->dev->name",
    "--capture",
    "ip->protocol:enum(IPPROTO)",
    "--",
    ...senderArgs(0x3b, ["--count", "1", "--size", "58"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${TX} \\( len: 100 dev: lo protocol: IPPROTO_UDP \\)\\n`));
});

test("ipft.capture{} in a Lua script: the same values as --capture", { skip }, () => {
  const dir = tempDir("ipft-capture");
  const path = join(dir, "cap.lua");
  writeFileSync(
    path,
    `local module, decode = ipft.capture{ "skb->len", "dev=skb->dev->name", "ip->daddr" }
     function emit() return module end
     function dump(data) return decode(data) end`,
  );
  const r = ipft([
    ...SELECT,
    "-m",
    "0x3c",
    "-o",
    "json",
    "-s",
    path,
    "--",
    ...senderArgs(0x3c, ["--count", "1"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const ev = jsonLines<Event>(r.stdout);
  pick(ev, { function: TX, len: 142, dev: "lo", daddr: "127.0.0.1" }, "script capture");
});

test("sums on real packets: an integer plus a number, a pointer plus integers (bytes past the IP header)", {
  skip: skip ?? hostOnlySkipReason(),
}, () => {
  // Packed after the bitmap and a 4-byte length, the sums sit at odd offsets of the data area.
  const caps = [
    "skb->len",
    "next=skb->len + 1",
    "nh=skb->head + skb->network_header",
    "l4=skb->head + skb->network_header + 20",
    "proto=(skb->head + skb->network_header)[9]",
  ];
  const ev = trace(0x3e, caps, senderArgs(0x3e, ["--count", "2", "--size", "100"]));
  assert.ok(ev.length >= 2, `events: ${ev.length}`);
  for (const e of ev) {
    assert.equal(typeof e.len, "number");
    assert.equal(e.next, (e.len as number) + 1, `${e.function}: len + 1`);
    assert.equal(BigInt(e.l4 as string) - BigInt(e.nh as string), 20n, `${e.function}: header + 20`);
    assert.equal(e.proto, 17, `${e.function}: the IP protocol byte is UDP`);
  }
  pick(ev, { function: TX, len: 142, next: 143 }, "the datagram leaving");
});

test("struct sock's shorthands on real packets: sk_family is AF_INET and sk_num the source port at transmit", {
  skip: skip ?? onePassSkipReason(),
}, () => {
  const caps = ["skb->sk->sk_family", "skb->sk->sk_num", "sport=udp->source"];
  const ev = trace(0x3f, caps, senderArgs(0x3f, ["--count", "1", "--port", "9999"]));
  const tx = pick(ev, { function: TX, sk_family: 2 }, "the datagram leaving its socket");
  assert.equal(tx.sk_num, tx.sport, "the socket's local port is the UDP source port");
});

let pair: VethPair | undefined;
const PORT = 7777;
const MARK = 0x5151;

/** The client in `from` sends `size` bytes to the server (in `to`) at host:PORT, from srcPort. */
function traffic(
  kind: "tcp" | "udp",
  o: { from: string; to: string; host: string; srcPort: number; size: number },
) {
  const ready = join(tempDir("ipft-traffic"), "ready");
  return trafficCommand({
    kind,
    serverNs: o.to,
    clientNs: o.from,
    host: o.host,
    port: PORT,
    srcPort: o.srcPort,
    size: o.size,
    ready,
  });
}

describe("between network namespaces", { skip: netSkip || hostOnlySkipReason() }, () => {
  before(() => {
    if (!netSkip) pair = makeVethPair("ipftcap", PORT, MARK);
  });
  after(() => pair?.remove());

  test("veth between namespaces, UDP marked by nftables: each side's device, addresses, ports, lengths", {
    skip: netSkip,
  }, () => {
    const p = pair!;
    const cmd = traffic("udp", { from: p.nsA, to: p.nsB, host: p.addrB, srcPort: PORT + 1, size: 100 });
    const ev = trace(MARK, UDP, cmd);
    const fwd = { saddr: p.addrA, daddr: p.addrB, protocol: "IPPROTO_UDP", sport: PORT + 1, dport: PORT };
    pick(ev, { ...fwd, function: TX, dev: p.devA, len: 142, family: 2 }, `sent from ${p.nsA}`);
    const back = { saddr: p.addrB, daddr: p.addrA, protocol: "IPPROTO_UDP", sport: PORT, dport: PORT + 1 };
    pick(ev, { ...back, function: TX, dev: p.devB, len: 142, family: 2 }, `echoed from ${p.nsB}`);
    // No tracepoint sees a UDP datagram between prerouting (where B marks it) and the socket; functions do.
    if (!TP) pick(ev, { ...fwd, function: DELIVER, dev: p.devB, len: 128 }, `received in ${p.nsB}`);
  });

  test("veth between namespaces, TCP marked by nftables: handshake flags both ways, data length", {
    skip: netSkip,
  }, () => {
    const p = pair!;
    const cmd = traffic("tcp", { from: p.nsA, to: p.nsB, host: p.addrB, srcPort: PORT + 2, size: 5 });
    const ev = trace(MARK, TCP, cmd);
    const fwd = { saddr: p.addrA, daddr: p.addrB, protocol: "IPPROTO_TCP", sport: PORT + 2, dport: PORT };
    const back = { saddr: p.addrB, daddr: p.addrA, protocol: "IPPROTO_TCP", sport: PORT, dport: PORT + 2 };
    pick(ev, { ...fwd, function: TX, dev: p.devA, flags: "SYN" }, "the SYN leaves A");
    pick(ev, { ...back, function: TX, dev: p.devB, flags: "SYN|ACK" }, "the SYN-ACK leaves B");
    const ack = pick(ev, { ...fwd, function: TX, dev: p.devA, flags: "ACK" }, "a bare ACK from A");
    const data = pick(ev, { ...fwd, function: TX, dev: p.devA, flags: "PSH|ACK" }, "the data from A");
    assert.equal((data.len as number) - (ack.len as number), 5, "the data segment carries the 5 bytes sent");
    pick(ev, { ...fwd, flags: "FIN|ACK" }, "A closes");
  });

  test("loopback TCP over IPv6 inside a namespace: ip6 addresses and next header", () => {
    const p = pair!;
    const cmd = traffic("tcp", { from: p.nsA, to: p.nsA, host: "::1", srcPort: PORT + 4, size: 3 });
    const v6 = [
      "skb->len",
      "skb->dev->name",
      "ip6->saddr",
      "ip6->daddr",
      "ip6->nexthdr:enum(IPPROTO)",
      "sport=tcp->source",
      "dport=tcp->dest",
      "tcp->flags",
    ];
    const ev = trace(MARK, v6, cmd);
    const lo = { saddr: "::1", daddr: "::1", nexthdr: "IPPROTO_TCP", dev: "lo" };
    pick(ev, { ...lo, function: TX, sport: PORT + 4, dport: PORT, flags: "SYN" }, "SYN over IPv6");
    pick(ev, { ...lo, function: TX, sport: PORT, dport: PORT + 4, flags: "SYN|ACK" }, "SYN-ACK over IPv6");
  });

  test("loopback TCP inside a namespace, marked by nftables", { skip: netSkip }, () => {
    const p = pair!;
    const cmd = traffic("tcp", { from: p.nsA, to: p.nsA, host: "127.0.0.1", srcPort: PORT + 3, size: 9 });
    const ev = trace(MARK, TCP, cmd);
    const lo = { saddr: "127.0.0.1", daddr: "127.0.0.1", protocol: "IPPROTO_TCP", dev: "lo" };
    pick(ev, { ...lo, function: TX, sport: PORT + 3, dport: PORT, flags: "SYN" }, "SYN");
    pick(ev, { ...lo, function: TX, sport: PORT, dport: PORT + 3, flags: "SYN|ACK" }, "SYN-ACK");
    const ack = pick(ev, { ...lo, function: TX, sport: PORT + 3, flags: "ACK" }, "ACK");
    const data = pick(ev, { ...lo, function: TX, sport: PORT + 3, flags: "PSH|ACK" }, "data");
    assert.equal((data.len as number) - (ack.len as number), 9);
  });
});

test("examples/gso-capture.lua traces loopback UDP: length and no GSO", { skip }, () => {
  const r = ipft([
    ...SELECT,
    "-m",
    "0x3d",
    "-s",
    `${ROOT}examples/gso-capture.lua`,
    "--",
    ...senderArgs(0x3d, ["--count", "1"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${TX} \\( len: 142 gso_size: 0 gso_segs: \\d+ gso_type: 0x0 \\)\\n`));
});

test("--test and --gen module accept captures: the module passes the verifier on this backend", {
  skip,
}, () => {
  const caps = [...TCP, "gso=skb_shinfo(skb)->gso_size", "skb->cb[0]"].flatMap((c) => ["--capture", c]);
  const t = ipft([...SELECT, "--test", ...caps]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^ok: \d+ programs passed the verifier .*module of \d+ instructions/);
  const g = ipft(["--gen", "module", ...caps]);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stdout, /^; capture layout: \d+ of 64 bytes/);
  assert.match(g.stdout, /; {3}flags: 1 byte at \d+, __u8, shown as flags/);
  assert.match(g.stdout, /call bpf_probe_read_kernel#113/);
});
