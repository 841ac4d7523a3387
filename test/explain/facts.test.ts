// A drop's facts from its drop-facts part (explain/facts.ts) and what a live trace reads in the system
// (a fake here): each cause's facts, what is said when a fact could not be read, and how the writers'
// verdict text carries them.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Explanation, explainDrop } from "../../src/explain/explanation.js";
import { dropFacts } from "../../src/explain/facts.js";
import { recordingLookups, replayedLookups } from "../../src/explain/recorded-lookups.js";
import {
  rootQdisc,
  type SystemLookups,
  socketOwners,
  tcFilters,
  udpSocketIn,
  xdpOf,
} from "../../src/explain/system-facts.js";
import { VerdictText } from "../../src/output/verdict-text.js";
import {
  DROP_FACTS_SIZE,
  type DropFactsInfo,
  SOCK_NONE,
  SOCK_NOT_GIVEN,
} from "../../src/record/parts/drop-facts.js";
import { VERDICT_DROP } from "../../src/record/record.js";
import { records } from "../output/records.js";

/** An IPv4 header (DF set when `df`), then 20 bytes of the upper header with its ports and TCP flags. */
function ipv4(o: {
  proto: number;
  ttl?: number;
  len?: number;
  df?: boolean;
  dport?: number;
  flags?: number;
}): number[] {
  const len = o.len ?? 40;
  const h = [0x45, 0, len >> 8, len & 0xff, 0, 1, o.df ? 0x40 : 0, 0, o.ttl ?? 64, o.proto, 0, 0];
  h.push(10, 0, 0, 1, 10, 0, 0, 2);
  const dport = o.dport ?? 53;
  const l4 = [
    0x30,
    0x39,
    dport >> 8,
    dport & 0xff,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    o.flags ?? 0x02,
    0xff,
    0xff,
  ];
  return [...h, ...l4, 0, 0, 0, 0];
}

const part = (network: number[], name = "eth0"): DropFactsInfo => ({
  ifindex: 2,
  netns: 4026532000,
  name,
  mtu: 1500,
  network: Uint8Array.from(network),
  sockState: SOCK_NONE,
});

const sys: SystemLookups = {
  namespace: (n) => (n === 4026532000 ? "blue" : `netns:${n}`),
  sysctl: (_n, key) =>
    key.endsWith("eth0/rp_filter")
      ? { value: "1" }
      : key.endsWith("all/rp_filter")
        ? { value: "2" }
        : key.endsWith("forwarding")
          ? { value: "0" }
          : key.endsWith("eth0/mcast_solicit")
            ? { value: "3" }
            : { missing: "no such file" },
  route: (_n, dst) => (dst === "10.0.0.2" ? { dev: "eth1", mtu: 1400 } : { missing: "unreachable" }),
  qdisc: (_n, dev) => (dev === "eth0" ? { kind: "pfifo", limit: "0" } : { missing: "tc failed" }),
  filters: (_n, dev, hook) =>
    dev !== "eth0"
      ? { missing: "tc failed" }
      : hook === "egress"
        ? []
        : [{ kind: "bpf", prog: { id: 7, name: "shot" }, directAction: true }, { kind: "flower" }],
  neighbour: (_n, dst) =>
    dst === "10.0.0.2" ? { address: "10.0.0.2", dev: "eth0", state: ["FAILED"] } : { missing: "unreachable" },
  owners: (inode) => (inode === 4242 ? [{ pid: 77, comm: "sink" }] : []),
  udpSocket: (_n, addr, port) =>
    port === 9743
      ? { local: `${addr}:${port}`, inode: 4242, queued: 1280, drops: 19 }
      : { missing: "no socket" },
  xdp: (_n, dev) =>
    dev === "eth0"
      ? { id: 9, name: "xdp_drop", mode: "generic" }
      : dev === "eth1"
        ? { none: true }
        : { missing: "ip failed" },
};

const facts = (why: Explanation, p: DropFactsInfo, live = true) =>
  Object.fromEntries(dropFacts(why, p, live ? sys : undefined).map((f) => [f.name, f.value]));

test("no socket: protocol, address and port, namespace, and the reply (none to a reset)", () => {
  const udp = explainDrop("NO_SOCKET", "__udp4_lib_rcv")!;
  assert.deepEqual(facts(udp, part(ipv4({ proto: 17, dport: 9741 }))), {
    protocol: "UDP",
    destination: "10.0.0.2:9741",
    device: "eth0",
    namespace: "blue",
    reply: "ICMP port unreachable to 10.0.0.1 (unless rate-limited)",
  });
  const tcp = explainDrop("NO_SOCKET", "tcp_v4_rcv")!;
  assert.equal(facts(tcp, part(ipv4({ proto: 6, dport: 80 }))).reply, "TCP reset to 10.0.0.1");
  assert.equal(facts(tcp, part(ipv4({ proto: 6, flags: 0x04 }))).reply, "none (the segment was a reset)");
  // No header bytes: what is known (where), and that the rest was not read.
  assert.deepEqual(facts(tcp, part([])), {
    destination: "not read (the packet's network header was not in the event)",
    device: "eth0",
    namespace: "blue",
  });
});

test("rp_filter: the mode in force is the higher of the device's and all's; a failed read says why", () => {
  const rp = explainDrop("IP_RPFILTER", "ip_rcv_finish_core")!;
  assert.deepEqual(facts(rp, part(ipv4({ proto: 1 }))), {
    source: "10.0.0.1",
    device: "eth0",
    namespace: "blue",
    rp_filter: "loose (net.ipv4.conf.eth0.rp_filter=1, all=2, read after the drop)",
  });
  assert.equal(facts(rp, part(ipv4({ proto: 1 }), "eth9")).rp_filter, "not read (no such file)");
});

test("no route with forwarding off, TTL and MTU: the values read at the drop and after it", () => {
  const noRoute = explainDrop("IP_INADDRERRORS", "ip_error")!;
  assert.equal(noRoute.cause, "NO_ROUTE");
  assert.match(
    facts(noRoute, part(ipv4({ proto: 1 }))).forwarding!,
    /^off \(net\.ipv4\.conf\.eth0\.forwarding=0, .*; read after the drop\)$/,
  );
  const ttl = explainDrop("IP_INHDR", "ip_forward")!;
  assert.deepEqual(facts(ttl, part(ipv4({ proto: 1, ttl: 1 }))), {
    ttl: "1",
    device: "eth0",
    namespace: "blue",
    reply: "ICMP time exceeded to 10.0.0.1",
  });
  const mtu = explainDrop("PKT_TOO_BIG", "ip_forward")!;
  assert.deepEqual(facts(mtu, part(ipv4({ proto: 1, len: 1500, df: true }))), {
    length: "1500",
    df: "set",
    ingress: "eth0 mtu 1500",
    namespace: "blue",
    egress: "eth1 mtu 1400 (read after the drop)",
    reply: "ICMP fragmentation needed to 10.0.0.1",
  });
  // No look-ups: nothing read in the system, the namespace by its inode.
  const read = facts(mtu, part(ipv4({ proto: 1, len: 1500, df: true })), false);
  assert.equal(read.namespace, "netns:4026532000");
  assert.match(read.egress!, /^not read \(no look-up in the system here\)$/);
});

test("a qdisc drop: the device and its root qdisc's kind and limit, read after the drop", () => {
  const q = explainDrop("QDISC_DROP", "__dev_queue_xmit")!;
  assert.deepEqual(facts(q, part(ipv4({ proto: 1 }))), {
    device: "eth0",
    namespace: "blue",
    qdisc: "pfifo limit 0 (root; read after the drop)",
  });
  assert.equal(facts(q, part(ipv4({ proto: 1 }), "eth9")).qdisc, "not read (tc failed)");
  assert.equal(facts(q, part(ipv4({ proto: 1 })), false).qdisc, "not read (no look-up in the system here)");
});

test("tc's JSON: the root qdisc's kind and limit, none without a limit, why when there is no root", () => {
  assert.deepEqual(
    rootQdisc(
      '[{"kind":"pfifo","handle":"8001:","root":true,"refcnt":3,"options":{"limit":0}},{"kind":"ingress","handle":"ffff:","parent":"ffff:fff1"}]',
    ),
    { kind: "pfifo", limit: "0" },
  );
  assert.deepEqual(rootQdisc('[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]'), {
    kind: "noqueue",
  });
  assert.deepEqual(rootQdisc("[]"), {
    missing: "tc shows no root qdisc: the device may be down (its noop qdisc drops everything)",
  });
  assert.deepEqual(rootQdisc("oops"), { missing: "tc -j qdisc show printed no JSON" });
});

test("a tc drop: the device, the direction and the programs on that hook, read after the drop", () => {
  const tc = explainDrop("TC_INGRESS", "__netif_receive_skb_core.constprop.0")!;
  assert.deepEqual(facts(tc, part(ipv4({ proto: 1 }))), {
    device: "eth0",
    namespace: "blue",
    direction: "ingress",
    programs: "shot id 7 (bpf direct-action), a flower filter (read after the drop)",
  });
  const eg = explainDrop("TC_EGRESS", "__dev_queue_xmit")!;
  assert.equal(
    facts(eg, part(ipv4({ proto: 1 }))).programs,
    "none on egress now (tcx programs are not shown by tc; read after the drop)",
  );
  assert.equal(facts(eg, part(ipv4({ proto: 1 }), "eth9")).programs, "not read (tc failed)");
});

test("tc's filter JSON: each filter with options, a bpf filter's program", () => {
  const json =
    '[{"protocol":"all","pref":49152,"kind":"bpf","chain":0},{"protocol":"all","pref":49152,"kind":"bpf","chain":0,"options":{"handle":"0x1","bpf_name":"shot:[*fsobj]","direct-action":true,"not_in_hw":true,"prog":{"id":104118,"name":"ipft_shot","tag":"614b434cd8324ecc","jited":1}}}]';
  assert.deepEqual(tcFilters(json), [
    { kind: "bpf", prog: { id: 104118, name: "ipft_shot" }, directAction: true },
  ]);
  assert.deepEqual(tcFilters("[]"), []);
  assert.deepEqual(tcFilters("{"), { missing: "tc -j filter show printed no JSON" });
});

test("a neighbour that never answered: the next hop, its entry's state, the probes, the reply", () => {
  const n = explainDrop("NEIGH_FAILED", "neigh_invalidate")!;
  assert.deepEqual(facts(n, part(ipv4({ proto: 1 }))), {
    destination: "10.0.0.2",
    device: "eth0",
    namespace: "blue",
    neighbour: "10.0.0.2 dev eth0 FAILED (read after the drop)",
    probes: "up to 3 ARP requests (net.ipv4.neigh.eth0.mcast_solicit=3, read after the drop)",
    reply: "ICMP host unreachable to 10.0.0.1",
  });
  // A full queue of packets waiting for the answer: no ICMP for those.
  const q = explainDrop("NEIGH_QUEUEFULL", "__neigh_event_send")!;
  assert.equal(facts(q, part(ipv4({ proto: 1 }))).reply, undefined);
  assert.equal(facts(n, part(ipv4({ proto: 1 }), "eth9")).probes, "not read (no such file)");
  assert.deepEqual(facts(n, part([])), {
    destination: "not read (the packet's network header was not in the event)",
    device: "eth0",
    namespace: "blue",
  });
});

test("the verdict's text and json carry the facts of the record's drop-facts part", () => {
  const UDP_LIB_RCV = 0xffffffff81100000n;
  const namer = {
    reason: () => "NO_SOCKET",
    location: () => "__udp4_lib_rcv+0x10",
    lookups: sys,
  };
  const vt = new VerdictText(namer);
  const ev = {
    skb: 1n,
    ts: 1n,
    func: 1n,
    cpu: 0,
    verdict: { kind: VERDICT_DROP, reason: 2, location: UDP_LIB_RCV },
    dropFacts: {
      ifindex: 2,
      netns: 4026532000,
      name: "eth0",
      mtu: 1500,
      network: ipv4({ proto: 17, dport: 7 }),
    },
  };
  const dv = records([ev, { ...ev, dropFacts: undefined }]);
  const v = {
    kind: VERDICT_DROP,
    reason: 2,
    locLo: Number(UDP_LIB_RCV & 0xffffffffn),
    tsLo: 0,
    tsHi: 0,
    locHi: Number(UDP_LIB_RCV >> 32n),
  };
  assert.match(
    vt.text(v, dv, 0),
    /^dropped \(NO_SOCKET\) at __udp4_lib_rcv\+0x10: no UDP socket .* \(protocol UDP, destination 10\.0\.0\.2:7, device eth0, namespace blue, reply ICMP/,
  );
  const json = JSON.parse(`{${vt.json(v, dv, 0).slice(1)}}`);
  assert.equal(json.explanation.facts.destination, "10.0.0.2:7");
  // A drop without the part: the explanation alone.
  const second = 128 + DROP_FACTS_SIZE;
  assert.doesNotMatch(vt.text(v, dv, second), /protocol UDP/);
  assert.equal(JSON.parse(`{${vt.json(v, dv, second).slice(1)}}`).explanation.facts, undefined);
});

test("a full receive buffer: the socket, its buffer and what it held at the drop, its owner after", () => {
  const why = explainDrop("SOCKET_RCVBUFF", "__udp_queue_rcv_skb")!;
  const sock = {
    family: 2,
    port: 9743,
    address: Uint8Array.of(10, 0, 0, 2),
    rcvbuf: 2304,
    queued: 2560,
    backlog: 0,
    inode: 4242,
  };
  const p = { ...part(ipv4({ proto: 17, dport: 9743 })), sockState: 2, sock };
  assert.deepEqual(facts(why, p), {
    protocol: "UDP",
    destination: "10.0.0.2:9743",
    device: "eth0",
    namespace: "blue",
    socket: "10.0.0.2:9743",
    rcvbuf: "2304 bytes",
    queued: "2560 bytes",
    owner: "pid 77 (sink) (read after the drop)",
  });
  // Gone by then; a backlog; an IPv6 socket bound to any address.
  const v6 = { ...sock, family: 10, address: new Uint8Array(16), backlog: 512, inode: 1 };
  const f6 = facts(why, { ...p, sock: v6 });
  assert.equal(f6.socket, "[::]:9743");
  assert.equal(f6.queued, "2560 bytes, 512 in its backlog");
  assert.equal(f6.owner, "no process holds socket:[1] open now (read after the drop)");
  assert.equal(facts(why, p, false).owner, "not read (no look-up in the system here)");
  // A kernel whose kfree_skb gives no socket (before 6.11): the UDP socket found by the destination after
  // the drop, what it held then; its buffer not read.
  const old = { ...part(ipv4({ proto: 17, dport: 9743 })), sockState: SOCK_NOT_GIVEN };
  const NOT_GIVEN = "kfree_skb gives no socket on this kernel (its rx_sk came with Linux 6.11)";
  assert.deepEqual(facts(why, old), {
    protocol: "UDP",
    destination: "10.0.0.2:9743",
    device: "eth0",
    namespace: "blue",
    socket: "10.0.0.2:9743 (found by the destination in /proc/net/udp, read after the drop)",
    rcvbuf: `not read (${NOT_GIVEN})`,
    queued: "1280 bytes, 19 drops so far (read after the drop)",
    owner: "pid 77 (sink) (read after the drop)",
  });
  const gone = { ...part(ipv4({ proto: 17, dport: 53 })), sockState: SOCK_NOT_GIVEN };
  assert.equal(facts(why, gone).socket, `not read (${NOT_GIVEN}; no socket)`);
  assert.equal(facts(why, old, false).socket, `not read (${NOT_GIVEN}; no look-up in the system here)`);
  assert.equal(facts(why, part(ipv4({ proto: 17, dport: 9743 }))).socket, "not read (kfree_skb gave none)");
});

test("an XDP drop: the device, the direction and its XDP program, read after the drop", () => {
  const x = explainDrop("XDP", "do_xdp_generic")!;
  assert.deepEqual(facts(x, part(ipv4({ proto: 1 }))), {
    device: "eth0",
    namespace: "blue",
    direction: "ingress (XDP)",
    program: "xdp_drop id 9 (generic; read after the drop)",
  });
  assert.equal(facts(x, part(ipv4({ proto: 1 }), "eth1")).program, "none attached now (read after the drop)");
  assert.equal(facts(x, part(ipv4({ proto: 1 }), "eth9")).program, "not read (ip failed)");
});

test("/proc/net/udp: the socket at the address and port, else one bound to any address there", () => {
  const head =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
  const line = (addr: string, port: number, inode: number, rx: number, drops: number) =>
    `  1: ${addr}:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 07 00000000:${rx.toString(16).padStart(8, "0")} 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 ${drops}\n`;
  const text = head + line("00000000", 53, 11, 0, 0) + line("0202CB0A", 9743, 12, 0x500, 19);
  assert.deepEqual(udpSocketIn(text, "10.203.2.2", 9743), {
    local: "10.203.2.2:9743",
    inode: 12,
    queued: 1280,
    drops: 19,
  });
  assert.deepEqual(udpSocketIn(text, "10.0.0.9", 53), {
    local: "0.0.0.0:53",
    inode: 11,
    queued: 0,
    drops: 0,
  });
  assert.equal(udpSocketIn(text, "10.0.0.9", 54), undefined);
  // IPv6: four words, each in host order.
  const v6 = head + line("000080FE00000000FF000002000003FE", 5353, 13, 0, 1);
  assert.equal(udpSocketIn(v6, "fe80::200:ff:fe03:0", 5353)?.local, "[fe80::200:ff:fe03:0]:5353");
});

test("ip's link JSON: the XDP program in one mode, in several (the generic one), none", () => {
  const one =
    '[{"ifindex":5,"ifname":"veth-x","xdp":{"mode":2,"prog":{"id":61,"name":"ipft_xdp_drop","tag":"3b185187f1855c4c","jited":1}}}]';
  assert.deepEqual(xdpOf(one), { id: 61, name: "ipft_xdp_drop", mode: "generic" });
  const multi =
    '[{"ifname":"x","xdp":{"mode":4,"attached":[{"mode":1,"prog":{"id":3,"name":"a"}},{"mode":2,"prog":{"id":4,"name":"b"}}]}}]';
  assert.deepEqual(xdpOf(multi), { id: 4, name: "b", mode: "generic" });
  assert.deepEqual(xdpOf('[{"ifname":"x"}]'), { none: true });
  assert.deepEqual(xdpOf("{"), { missing: "ip -j link show printed no JSON" });
});

test("a socket's owners: the processes with socket:[INODE] among their open files", () => {
  const proc = mkdtempSync(join(tmpdir(), "ipft-proc-"));
  try {
    for (const [pid, comm, link] of [
      ["12", "sink", "socket:[4242]"],
      ["13", "other", "socket:[4243]"],
    ] as const) {
      mkdirSync(join(proc, pid, "fd"), { recursive: true });
      writeFileSync(join(proc, pid, "comm"), `${comm}\n`);
      symlinkSync(link, join(proc, pid, "fd", "3"));
    }
    mkdirSync(join(proc, "self"));
    assert.deepEqual(socketOwners(proc, 4242), [{ pid: 12, comm: "sink" }]);
    assert.deepEqual(socketOwners(proc, 1), []);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test("the verdict's facts of a full receive buffer come from the record's socket bytes", () => {
  const UDP_RCV = 0xffffffff81200000n;
  const vt = new VerdictText({
    reason: () => "SOCKET_RCVBUFF",
    location: () => "__udp_queue_rcv_skb+0x1",
    lookups: sys,
  });
  const dropFacts = {
    ifindex: 2,
    netns: 4026532000,
    name: "eth0",
    mtu: 1500,
    network: ipv4({ proto: 17, dport: 53 }),
    sock: { port: 53, address: [10, 0, 0, 2], rcvbuf: 4608, queued: 4864, inode: 4242 },
  };
  const dv = records([
    {
      skb: 1n,
      ts: 1n,
      func: 1n,
      cpu: 0,
      verdict: { kind: VERDICT_DROP, reason: 6, location: UDP_RCV },
      dropFacts,
    },
  ]);
  const v = {
    kind: VERDICT_DROP,
    reason: 6,
    locLo: Number(UDP_RCV & 0xffffffffn),
    tsLo: 0,
    tsHi: 0,
    locHi: Number(UDP_RCV >> 32n),
  };
  const json = JSON.parse(`{${vt.json(v, dv, 0).slice(1)}}`);
  assert.deepEqual(json.explanation.facts, {
    protocol: "UDP",
    destination: "10.0.0.2:53",
    device: "eth0",
    namespace: "blue",
    socket: "10.0.0.2:53",
    rcvbuf: "4608 bytes",
    queued: "4864 bytes",
    owner: "pid 77 (sink) (read after the drop)",
  });
});

test("a trace file's kept answers give back what the live run read; one it lacks is not read", () => {
  const kept = new Map<string, string>();
  const live = recordingLookups(sys, (k, j) => kept.set(k, j));
  const mtu = explainDrop("PKT_TOO_BIG", "ip_forward")!;
  const p = part(ipv4({ proto: 1, len: 1500, df: true }));
  const asLive = dropFacts(mtu, p, live);
  assert.deepEqual(dropFacts(mtu, p, replayedLookups(kept)), asLive);
  const q = explainDrop("QDISC_DROP", "__dev_queue_xmit")!;
  const qLive = dropFacts(q, p, live);
  assert.deepEqual(dropFacts(q, p, replayedLookups(kept)), qLive);
  const tc = explainDrop("TC_INGRESS", "")!;
  const tcLive = dropFacts(tc, p, live);
  assert.deepEqual(dropFacts(tc, p, replayedLookups(kept)), tcLive);
  const neigh = explainDrop("NEIGH_FAILED", "neigh_invalidate")!;
  const nLive = dropFacts(neigh, p, live);
  assert.deepEqual(dropFacts(neigh, p, replayedLookups(kept)), nLive);
  const xdp = explainDrop("XDP", "")!;
  const xLive = dropFacts(xdp, p, live);
  assert.deepEqual(dropFacts(xdp, p, replayedLookups(kept)), xLive);
  const rcv = explainDrop("SOCKET_RCVBUFF", "")!;
  const sp = {
    ...part(ipv4({ proto: 17 })),
    sockState: 2,
    sock: {
      family: 2,
      port: 53,
      address: Uint8Array.of(10, 0, 0, 2),
      rcvbuf: 1,
      queued: 2,
      backlog: 0,
      inode: 4242,
    },
  };
  const sLive = dropFacts(rcv, sp, live);
  assert.match(JSON.stringify(sLive), /pid 77/);
  assert.deepEqual(dropFacts(rcv, sp, replayedLookups(kept)), sLive);
  // Before 6.11: the socket found in /proc/net/udp after the drop, kept the same way.
  const oldPart = { ...part(ipv4({ proto: 17, dport: 9743 })), sockState: SOCK_NOT_GIVEN };
  const oLive = dropFacts(rcv, oldPart, live);
  assert.match(JSON.stringify(oLive), /proc\/net\/udp/);
  assert.deepEqual(dropFacts(rcv, oldPart, replayedLookups(kept)), oLive);
  assert.deepEqual(replayedLookups(new Map()).route(1, "10.0.0.2"), { missing: "not in the trace file" });
  assert.equal(replayedLookups(new Map()).namespace(7), "netns:7");
});
