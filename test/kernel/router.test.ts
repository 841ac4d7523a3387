// TCP through a router (test/support/router.ts): a segment is a clone whose data the router copies to
// forward it (and NAT rewrites), so its skb->head changes on the way; tracking must keep it one packet,
// followed from the client through the router, to its drop or to the server. Each event names its device
// (-c 'skb->dev->name'), which says where it was: veth-c in the client, veth-rc and veth-rs in the router,
// veth-s in the server. Function backends restrict -r to a few functions on the path (pskb_expand_head
// among them: where the head changes), next to the verdict tracepoints.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ADDR,
  connectAttempt,
  forwardDrop,
  makeRouter,
  markOutput,
  masquerade,
  type Router,
  routerSkipReason,
  shell,
  tcpConnection,
} from "../support/router.js";
import { ipft, kernelSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? routerSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const FUNCS =
  "^(__dev_queue_xmit|ip_rcv|ipv6_rcv|ip_forward|ip6_forward|pskb_expand_head|tcp_v4_rcv|tcp_v6_rcv)$";
const SELECT = ["-b", BACKEND, ...(BACKEND === "tracepoint" ? [] : ["-r", FUNCS]), "-c", "skb->dev->name"];
const MARK = 0x2d;
const DROPPED = 9721;
const CLOSED = 9722;
const OPEN = 9723;
/** The connections' scratch files (see tcpConnection). */
// Files of this process's own (two VM guests may share /tmp: fixed names would collide).
const READY = [0, 1].map((i) => join(tmpdir(), `ipftrt-ready-${process.pid}-${i}`));
const TO_SERVER = ["veth-c", "veth-rc", "veth-rs", "veth-s"];

interface Packet {
  /** The devices of its events, each once, in the order they were first seen. */
  path: string[];
  verdict: string;
}

/** The aggregate output's packets. */
function packets(stdout: string): Packet[] {
  const out: Packet[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("===")) out.push({ path: [], verdict: "" });
    const p = out.at(-1);
    if (!p) continue;
    const dev = / \( dev: (\S*) \)$/.exec(line)?.[1];
    if (dev && TO_SERVER.includes(dev) && !p.path.includes(dev)) p.path.push(dev);
    if (line.startsWith("Verdict: ")) p.verdict = line;
  }
  return out;
}

const show = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

describe("TCP through a router", { skip }, () => {
  let rt: Router | undefined;
  before(() => {
    rt = makeRouter("ipftrt");
    rt.nft("router", forwardDrop(DROPPED) + masquerade());
    rt.nft("client", markOutput([DROPPED, CLOSED], MARK));
  });
  after(() => {
    rt?.remove();
    for (const f of READY) rmSync(f, { force: true });
  });

  /** Shell lines: a SYN to the port the router drops (and its retransmission, when the attempt lasts), then
   * one to a closed port. */
  const syns = (host: string) => [
    connectAttempt(rt!, host, DROPPED, 1300),
    connectAttempt(rt!, host, CLOSED, 3000),
  ];

  /** Those SYNs' packets: each one the rule dropped is one packet (not two: one before its head changed,
   * one after), followed from the client into the router; the one to the closed port reached the server. */
  function checkSyns(ps: Packet[], r: { stdout: string; stderr: string }, dropped: number): void {
    const fwd = ps.filter((p) => p.verdict.startsWith("Verdict: dropped (NETFILTER_DROP)"));
    assert.equal(fwd.length, dropped, show(r));
    for (const p of fwd) assert.deepEqual(p.path, ["veth-c", "veth-rc"], show(r));
    const closed = ps.filter((p) => p.verdict.startsWith("Verdict: dropped (NO_SOCKET)"));
    assert.ok(
      closed.some((p) => p.path.join() === TO_SERVER.join()),
      show(r),
    );
  }

  test("by mark (cleared crossing the veth): SYNs dropped in the forward chain, and one to a closed port", () => {
    const drops = rt!.counter("router", "ipft_fwd");
    const r = ipft([...SELECT, "-m", String(MARK), "--", ...shell(...syns(ADDR.server.v4))]);
    assert.equal(r.status, 0, show(r));
    const ps = packets(r.stdout);
    checkSyns(ps, r, rt!.counter("router", "ipft_fwd") - drops);
    assert.match(
      r.stderr,
      new RegExp(
        `^${ps.length} packets: ${ps.length} dropped, 0 consumed, 0 delivered, 0 without a verdict$`,
        "m",
      ),
    );
  });

  test("by filter: the same over IPv6, then connections through masquerade, IPv4 and IPv6, every segment followed end to end", () => {
    const drops = rt!.counter("router", "ipft_fwd");
    const nat = rt!.counter("router", "ipft_nat");
    const conn = (host: string, i: number) =>
      tcpConnection(rt!, {
        host,
        port: OPEN,
        srcPort: 40721 + i,
        size: 3000,
        ready: READY[i]!,
      });
    const r = ipft([
      ...SELECT,
      `(ip6 and (tcp dst port ${DROPPED} or tcp dst port ${CLOSED})) or tcp port ${OPEN}`,
      "--",
      ...shell(...syns(ADDR.server.v6), conn(ADDR.server.v4, 0), conn(ADDR.server.v6, 1)),
    ]);
    assert.equal(r.status, 0, show(r));
    assert.ok(rt!.counter("router", "ipft_nat") > nat, "the connections were masqueraded");
    const ps = packets(r.stdout);
    checkSyns(ps, r, rt!.counter("router", "ipft_fwd") - drops);
    // The connections: both ways, each family (SYN, SYN-ACK, ACK, data, FIN, ACK at the least), and no
    // segment split in two (a part without the client's or the server's end).
    const fromServer = [...TO_SERVER].reverse();
    const conns = ps.filter((p) => !p.verdict.startsWith("Verdict: dropped"));
    assert.ok(conns.length >= 8, show(r));
    for (const p of conns)
      assert.ok(
        [TO_SERVER, fromServer].some((w) => w.join() === p.path.join()),
        show(r),
      );
    assert.ok(
      conns.some((p) => p.path[0] === "veth-s"),
      show(r),
    );
    assert.doesNotMatch(r.stderr, /not followed to the end/);
  });
});
