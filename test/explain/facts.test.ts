// A drop's facts from its drop-facts part (explain/facts.ts) and what a live trace reads in the system
// (a fake here): each cause's facts, what is said when a fact could not be read, and how the writers'
// verdict text carries them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Explanation, explainDrop } from "../../src/explain/explanation.js";
import { dropFacts } from "../../src/explain/facts.js";
import { recordingLookups, replayedLookups } from "../../src/explain/recorded-lookups.js";
import { rootQdisc, type SystemLookups, tcFilters } from "../../src/explain/system-facts.js";
import { VerdictText } from "../../src/output/verdict-text.js";
import type { DropFactsInfo } from "../../src/record/parts/drop-facts.js";
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
  const second = 128 + 96;
  assert.doesNotMatch(vt.text(v, dv, second), /protocol UDP/);
  assert.equal(JSON.parse(`{${vt.json(v, dv, second).slice(1)}}`).explanation.facts, undefined);
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
  assert.deepEqual(replayedLookups(new Map()).route(1, "10.0.0.2"), { missing: "not in the trace file" });
  assert.equal(replayedLookups(new Map()).namespace(7), "netns:7");
});
