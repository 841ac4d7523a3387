// --read of several files: one time line, each event's machine, one journey per packet across machines
// (through a NAT), ambiguous matches kept apart, bad inputs in one line.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { after, test } from "node:test";
import { signatureOf } from "../../src/merge/signature.js";
import { LINK_NETWORK } from "../../src/record/record.js";
import { ipft } from "../support/run.js";
import { ev, IP_RCV, type Machine, removeFiles, UDP_RCV, udp, writeFiles } from "./files.js";

after(removeFiles);

const SEC = 1_000_000_000n;
// Three boots, three clocks: the router's monotonic clock is 1000 s behind the client's, the server's
// 500 s ahead; W0 is a wall-clock time.
const OC = 1_700_000_000n * SEC;
const OR = OC + 1000n * SEC;
const OS = OC - 500n * SEC;
const W0 = OC + 5000n * SEC;
const mono = (offset: bigint, wallNs: number) => W0 + BigInt(wallNs) - offset;

// Client 10.0.1.2 sends datagrams (IP id 7 and 8) to 10.0.2.2; the router masquerades them as 10.0.2.1,
// port 5000, TTL 63; the server consumes the first and drops the second. The client and the router free
// their copies once sent (a verdict that is not the packet's). The router also saw two datagrams of IP id 9 with the same
// payload, which the client sent once: which one is the client's cannot be told.
function machines(): Record<string, Machine> {
  const client: Machine = { host: "c1", bootId: "boot-c", offsetNs: OC, events: [] };
  const router: Machine = { host: "r1", bootId: "boot-r", offsetNs: OR, events: [] };
  const server: Machine = { host: "s1", bootId: "boot-s", offsetNs: OS, events: [] };
  for (const [k, id] of [7, 8].entries()) {
    const t = k * 10_000;
    const out = udp("10.0.1.2", "10.0.2.2", id, 64);
    const natted = udp("10.0.2.1", "10.0.2.2", id, 63, 5000);
    const skb = BigInt(k + 1);
    client.events.push(ev(0xc0n + skb, mono(OC, t + 1000), IP_RCV, out));
    client.events.push(ev(0xc0n + skb, mono(OC, t + 1100), UDP_RCV, out, "consumed"));
    router.events.push(ev(0xa0n + skb, mono(OR, t + 2000), IP_RCV, out));
    router.events.push(ev(0xa0n + skb, mono(OR, t + 2100), UDP_RCV, natted, "consumed"));
    server.events.push(ev(0xb0n + skb, mono(OS, t + 3000), IP_RCV, natted));
    // The second datagram finds no socket on the server.
    server.events.push(
      ev(0xb0n + skb, mono(OS, t + 3100), UDP_RCV, natted, id === 8 ? "dropped" : "consumed"),
    );
  }
  const twin = udp("10.0.1.2", "10.0.2.2", 9, 64);
  client.events.push(ev(0xc9n, mono(OC, 50_000), IP_RCV, twin, "consumed"));
  router.events.push(ev(0xa8n, mono(OR, 51_000), IP_RCV, twin, "consumed"));
  router.events.push(ev(0xa9n, mono(OR, 52_000), IP_RCV, twin, "consumed"));
  return { client, router, server };
}

interface Line {
  packet_id: number;
  host: string;
  host_from?: string;
  host_verdict?: string;
  function: string;
  timestamp: number;
}

test("three machines' files: one journey per packet through the NAT, on one time line, each event's machine", () => {
  const files = writeFiles(machines());
  const r = ipft(["--read", ...files, "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  const byId = new Map<number, Line[]>();
  for (const l of lines) byId.set(l.packet_id, [...(byId.get(l.packet_id) ?? []), l]);
  // Two journeys of six events, then the three datagrams of IP id 9 apart.
  assert.deepEqual(
    [...byId.values()].map((ls) => ls.map((l) => l.host).join(",")),
    ["c1,c1,r1,r1,s1,s1", "c1,c1,r1,r1,s1,s1", "c1", "r1", "r1"],
  );
  const first = byId.get(1)!;
  assert.deepEqual(
    first.map((l) => l.host_from ?? ""),
    ["", "", "c1", "", "r1", ""],
    "the machine changes are marked",
  );
  // On the client's clock: 1000 ns from the client to the router, as the wall clocks say.
  const ts = first.map((l) => BigInt(l.timestamp));
  assert.deepEqual(
    ts.map((t) => t - ts[0]!),
    [0n, 100n, 1000n, 1100n, 2000n, 2100n],
  );
  assert.match(
    r.stderr,
    /merged 3 files \(c1, r1, s1\): 5 packets, 2 of them seen on several machines; times aligned by each machine's wall clock: to ±0\.6 µs/,
  );
  assert.deepEqual(
    first.map((l) => l.host_verdict ?? ""),
    ["", "consumed", "", "consumed", "", ""],
    "the senders' copies ending are not the packet's verdict",
  );
  assert.match(r.stderr, /^5 packets: 1 dropped, 4 consumed/m);
  // The router's two are ambiguous; the client's one is then alone.
  assert.match(r.stderr, /2 packets carry what another packet of their own file carries/);
});

test("aggregate and stream show each event's machine; --host-names renames; --drops keeps the dropped journey", () => {
  const files = writeFiles(machines());
  const agg = ipft(["--read", ...files, "--host-names", "client,router,server"]);
  assert.equal(agg.status, 0, agg.stderr);
  assert.match(agg.stdout, /host: router \(from client\)/);
  assert.match(agg.stdout, /host: server \(from router\)/);
  const keyed = ipft(["--read", ...files, "-o", "stream", "--host-names", "r1=gateway"]);
  assert.equal(keyed.status, 0, keyed.stderr);
  assert.match(keyed.stdout, /host: gateway \(from c1\)/);
  const drops = ipft(["--read", ...files, "--drops", "-o", "json"]);
  assert.equal(drops.status, 0, drops.stderr);
  const dropped = drops.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  assert.deepEqual(
    dropped.map((l) => `${l.packet_id} ${l.host}`),
    ["2 c1", "2 c1", "2 r1", "2 r1", "2 s1", "2 s1"],
  );
});

test("what each machine's run learned outside its records: a drop's nft rule, and what it could not see", () => {
  const m = machines();
  // The server's drop (IP id 8) at its own clock's time, and the rule its live run matched it with.
  const drop = m.server!.events.find((e) => e.verdict?.kind !== undefined && e.ts === mono(OS, 13_100))!;
  const why = {
    why: {
      cause: "NFT_RULE",
      failure: true,
      text: "an nftables rule dropped it",
      facts: [{ name: "handle", value: "4" }],
    },
    place: "nft rule inet filter input handle 4",
  };
  m.server!.dropDetails = {
    get: (hi, lo) => (((BigInt(hi) << 32n) | BigInt(lo)) === drop.ts ? why : undefined),
  };
  m.router!.unseen = { lost: 0, failed: 0, failedFirst: [], letGo: 3, trackMax: 4 };
  const files = writeFiles(m);
  const r = ipft(["--read", ...files, "-o", "stream"]);
  assert.equal(r.status, 0, r.stderr);
  // The drop is named by its rule though the merge moved it onto the client's time line.
  assert.match(
    r.stdout,
    / udp_rcv dropped \(NO_SOCKET\): an nftables rule dropped it \(handle 4\) host: s1$/m,
  );
  assert.match(r.stderr, /^Not seen on r1: 3 packets let go by the tracking table /m);
  assert.doesNotMatch(r.stderr, /^Not seen on (c1|s1)/m);
});

test("one boot's files share one clock: exact times; same host names told apart by file", () => {
  const m = machines();
  for (const x of Object.values(m)) {
    x.host = "box";
    x.bootId = "one-boot";
    x.offsetNs = OC; // one clock: the router's and server's records are on the client's
  }
  m.router!.events.forEach((e) => {
    e.ts = e.ts + OR - OC;
  });
  m.server!.events.forEach((e) => {
    e.ts = e.ts + OS - OC;
  });
  const r = ipft(["--read", ...writeFiles(m), "-o", "json"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /one boot, one clock: times are exact/);
  assert.match(r.stdout, /"host":"box\/router"/);
});

test("the signature ignores what a router and a NAT rewrite, not what the packet carries", () => {
  const sig = (b: number[]) => signatureOf(Uint8Array.from(b), LINK_NETWORK);
  const a = sig(udp("10.0.1.2", "10.0.2.2", 7, 64));
  assert.ok(a);
  assert.equal(sig(udp("10.0.2.1", "10.0.2.2", 7, 63, 5000)), a);
  assert.notEqual(sig(udp("10.0.1.2", "10.0.2.2", 8, 64)), a);
  const other = udp("10.0.1.2", "10.0.2.2", 7, 64);
  other[other.length - 1] ^= 1;
  assert.notEqual(sig(other), a, "the payload's bytes count");
  assert.equal(sig(udp("10.0.1.2", "10.0.2.2", 7, 64).slice(0, 30)), undefined, "cut before the payload");
});

test("bad inputs: one line, exit 1 (a file) or 2 (the command line)", () => {
  const [a, b] = writeFiles(machines());
  const missing = ipft(["--read", a!, "/nonexistent/x.pcapng"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read the pcapng file \/nonexistent\/x\.pcapng: no such file/);
  assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);
  const notOurs = `${a}.txt`;
  writeFileSync(notOurs, "hello");
  const junk = ipft(["--read", a!, notOurs]);
  assert.equal(junk.status, 1);
  assert.match(junk.stderr, /is not a pcapng file/);
  // A directory opens; reading it fails: said the same way, once.
  const dir = ipft(["--read", a!, dirname(a!)]);
  assert.equal(dir.status, 1);
  assert.equal(dir.stderr.trim(), `ipft: cannot read the pcapng file ${dirname(a!)}: it is a directory`);
  const names = ipft(["--read", a!, b!, "--host-names", "x,y,z"]);
  assert.equal(names.status, 2);
  assert.match(names.stderr, /--host-names gives 3 names for 2 files/);
  const alone = ipft(["-m", "1", "--host-names", "x"]);
  assert.equal(alone.status, 2);
  assert.match(alone.stderr, /goes with --read/);
});
