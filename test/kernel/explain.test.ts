// Drops explained, on real traffic between namespaces (client, router, server: test/support/router.ts), in
// one trace: an expired TTL in the router's forwarding (the kernel says IP_INHDR), a packet with DF set over
// the MTU of the router's server side (PKT_TOO_BIG), UDP and TCP to a closed port, a spoofed source the
// router's strict reverse-path filter rejects, a packet the router routes to a link whose pfifo holds none
// (QDISC_DROP), a packet to an address whose ARP requests a tc program drops (TC_INGRESS) and which so
// never gets a neighbour (NEIGH_FAILED), a packet for the
// server once the router's forwarding is off, UDP flooding a socket nobody reads (SOCKET_RCVBUFF: its
// buffer, what it held, its owner), a packet an XDP program in generic mode drops (XDP: the program),
// and two drops that are not failures: the echo reply iputils ping (root: a raw socket) reads as its own copy
// while ping_rcv frees the original with NO_SOCKET, and a packet socket's queue freed as it closes. Each
// failure's facts (explain/facts.ts) are checked against the situation built. The trace file of the same
// run, read back with --drops, prints the failures only, explained the same, with the same facts.
// Explanations are made in user space from the verdict tracepoints every backend adds: the tracepoint
// run is enough (onePassSkipReason).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADDR, connectAttempt, makeRouter, type Router, routerSkipReason, shell } from "../support/router.js";
import { hasTool, ipft, jsonLines, kernelSkipReason, onePassSkipReason, ROOT } from "../support/run.js";

const skip =
  kernelSkipReason() ??
  onePassSkipReason() ??
  routerSkipReason() ??
  (hasTool("ping") ? undefined : "needs iputils ping");
const CLOSED = 9741;
const CLOSED_TCP = 9742;
/** The client's spoofed source: an address of the server's side, which the router routes back there. */
const SPOOFED = "10.203.2.99";
const PACKET_SOCKET = `${ROOT}dist/test/support/packet-socket.js`;
/** Behind the router's veth-rq, whose pfifo holds nothing: every packet routed there is a qdisc drop. */
const QDISC_DST = "10.203.9.2";
/** Behind the router's veth-rt, whose peer veth-rtp drops all it receives (a tc program): ARP for this
 * address is never answered. */
const SILENT_DST = "10.203.7.2";
const TC_SHOT = `${ROOT}dist/test/support/tc-shot.js`;
const UDP_SINK = `${ROOT}dist/test/support/udp-sink.js`;
/** The server's UDP socket nobody reads, its receive buffer the smallest. */
const FULL = 9743;
/** Behind the router's veth-rx, whose peer veth-rxp has an XDP program (generic mode) that drops all. */
const XDP_DST = "10.203.8.2";
/** The same behind veth-rn, whose peer veth-rnp runs it in driver (native) mode. */
const XDP_NATIVE_DST = "10.203.10.2";

type Event = Record<string, unknown> & {
  explanation?: { cause: string; failure: boolean; text: string; facts?: Record<string, string> };
};

describe("drops explained", { skip }, () => {
  let rt: Router | undefined;
  const dir = mkdtempSync(join(tmpdir(), "ipft-explain-"));
  const file = join(dir, "trace.pcapng");
  const pingOut = join(dir, "ping-ttl.txt");
  const pingMtu = join(dir, "ping-mtu.txt");
  const udpOut = join(dir, "udp.txt");
  const tcpOut = join(dir, "tcp.txt");
  const silentOut = join(dir, "ping-silent.txt");
  const sinkFile = join(dir, "sink.txt");
  let live: { status: number; stdout: string; stderr: string };
  let events: Event[] = [];
  let tcSkip: string | undefined;
  let shotId = 0;
  let xdpSkip: string | undefined;
  let xdpId = 0;
  before(() => {
    rt = makeRouter("ipftex");
    // The router's link to the server carries 1280 bytes at most: a 1328-byte ping with DF set is too big.
    // Strict reverse-path filtering on the router's client side; the client gets an address of the server's
    // side to spoof.
    const setup = spawnSync(
      "sh",
      [
        "-ec",
        [
          `ip -n ${rt.ns.router} link set veth-rs mtu 1280`,
          `ip netns exec ${rt.ns.router} sh -c 'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 1 > /proc/sys/net/ipv4/conf/veth-rc/rp_filter'`,
          `ip -n ${rt.ns.client} addr add ${SPOOFED}/32 dev veth-c`,
          // A link of the router's own (veth-rq to veth-rqp) with its neighbour known, no queue.
          `ip -n ${rt.ns.router} link add veth-rq type veth peer name veth-rqp`,
          `ip -n ${rt.ns.router} addr add 10.203.9.1/24 dev veth-rq`,
          `ip -n ${rt.ns.router} link set veth-rq up`,
          `ip -n ${rt.ns.router} link set veth-rqp up`,
          `ip -n ${rt.ns.router} neigh replace ${QDISC_DST} lladdr 02:00:00:00:09:02 dev veth-rq nud permanent`,
          `tc -n ${rt.ns.router} qdisc replace dev veth-rq root pfifo limit 0`,
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    assert.equal(setup.status, 0, setup.stderr);
    // The tc program is pinned on a bpf file system mounted for this step only (its own mount namespace):
    // the filter keeps the program once the pin is gone.
    const bpffs = join(dir, "bpf");
    const shot = spawnSync(
      "unshare",
      [
        "-m",
        "sh",
        "-ec",
        [
          `ip -n ${rt.ns.router} link add veth-rt type veth peer name veth-rtp`,
          `ip -n ${rt.ns.router} addr add 10.203.7.1/24 dev veth-rt`,
          `ip -n ${rt.ns.router} link set veth-rt up`,
          `ip -n ${rt.ns.router} link set veth-rtp up`,
          // Three ARP requests 100 ms apart: the entry fails while the ping still waits.
          `ip netns exec ${rt.ns.router} sh -c 'echo 100 > /proc/sys/net/ipv4/neigh/veth-rt/retrans_time_ms'`,
          `mkdir ${bpffs}`,
          `mount -t bpf bpf ${bpffs}`,
          `${process.execPath} ${TC_SHOT} ${bpffs}/shot`,
          `tc -n ${rt.ns.router} qdisc add dev veth-rtp clsact`,
          `tc -n ${rt.ns.router} filter add dev veth-rtp ingress bpf object-pinned ${bpffs}/shot direct-action`,
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    if (shot.status !== 0) tcSkip = `no tc program could be attached: ${shot.stderr.trim()}`;
    else {
      const id = /"prog":\{"id":(\d+)/.exec(
        spawnSync("tc", ["-n", rt.ns.router, "-j", "filter", "show", "dev", "veth-rtp", "ingress"], {
          encoding: "utf8",
        }).stdout,
      );
      shotId = Number(id?.[1]);
    }
    // An XDP program in generic (skb) mode on veth-rxp: the router's packets for XDP_DST end there.
    const xdpfs = join(dir, "bpf-xdp");
    const xdp = spawnSync(
      "unshare",
      [
        "-m",
        "sh",
        "-ec",
        [
          `ip -n ${rt.ns.router} link add veth-rx type veth peer name veth-rxp`,
          `ip -n ${rt.ns.router} addr add 10.203.8.1/24 dev veth-rx`,
          `ip -n ${rt.ns.router} link set veth-rx up`,
          `ip -n ${rt.ns.router} link set veth-rxp up`,
          `ip -n ${rt.ns.router} neigh replace ${XDP_DST} lladdr 02:00:00:00:08:02 dev veth-rx nud permanent`,
          `mkdir ${xdpfs}`,
          `mount -t bpf bpf ${xdpfs}`,
          `${process.execPath} ${TC_SHOT} ${xdpfs}/xdp xdp`,
          `ip -n ${rt.ns.router} link set dev veth-rxp xdpgeneric pinned ${xdpfs}/xdp`,
          `ip -n ${rt.ns.router} link add veth-rn type veth peer name veth-rnp`,
          `ip -n ${rt.ns.router} addr add 10.203.10.1/24 dev veth-rn`,
          `ip -n ${rt.ns.router} link set veth-rn up`,
          `ip -n ${rt.ns.router} link set veth-rnp up`,
          `ip -n ${rt.ns.router} neigh replace ${XDP_NATIVE_DST} lladdr 02:00:00:00:0a:02 dev veth-rn nud permanent`,
          `ip -n ${rt.ns.router} link set dev veth-rnp xdpdrv pinned ${xdpfs}/xdp`,
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    if (xdp.status !== 0) xdpSkip = `no XDP program could be attached: ${xdp.stderr.trim()}`;
    else {
      const id = /"xdp":\{"mode":2,"prog":\{"id":(\d+)/.exec(
        spawnSync("ip", ["-n", rt.ns.router, "-j", "-d", "link", "show", "dev", "veth-rxp"], {
          encoding: "utf8",
        }).stdout,
      );
      xdpId = Number(id?.[1]);
    }
    const client = (argv: (string | number)[]) => rt!.exec("client", argv).join(" ");
    live = ipft([
      "-b",
      "tracepoint",
      "-o",
      "json",
      "-w",
      file,
      "net 10.203.0.0/16",
      "--",
      ...shell(
        `${client(["ping", "-c", 1, "-W", 1, "-t", 1, ADDR.server.v4])} >${pingOut} 2>&1`,
        `${client(["ping", "-c", 1, "-W", 1, "-M", "do", "-s", 1300, ADDR.server.v4])} >${pingMtu} 2>&1`,
        `${client(["ping", "-c", 1, "-W", 1, ADDR.server.v4])} >/dev/null`,
        `${client([process.execPath, PACKET_SOCKET, ADDR.server.v4, CLOSED])} 2>${udpOut}`,
        `${connectAttempt(rt, ADDR.server.v4, CLOSED_TCP, 1000)} 2>${tcpOut}`,
        // The sink holds its socket unread until the trace ends (wait, below): its owner is found.
        `${rt.exec("server", [process.execPath, UDP_SINK, "sink", ADDR.server.v4, FULL, sinkFile, 60000]).join(" ")} & SINK=$!`,
        `for i in $(seq 100); do [ -s ${sinkFile} ] && break; sleep 0.05; done`,
        `${client([process.execPath, UDP_SINK, "flood", ADDR.server.v4, FULL, 20])}`,
        `${client(["ping", "-c", 1, "-W", 1, XDP_DST])} >/dev/null 2>&1 || true`,
        `${client(["ping", "-c", 1, "-W", 1, XDP_NATIVE_DST])} >/dev/null 2>&1 || true`,
        `${client(["ping", "-c", 1, "-W", 1, "-I", SPOOFED, ADDR.server.v4])} >/dev/null 2>&1`,
        `${client(["ping", "-c", 1, "-W", 1, QDISC_DST])} >/dev/null 2>&1 || true`,
        `${client(["ping", "-c", 1, "-W", 1, SILENT_DST])} >${silentOut} 2>&1 || true`,
        `${rt.exec("router", ["sh", "-c", "'echo 0 > /proc/sys/net/ipv4/ip_forward'"]).join(" ")}`,
        // No answer: ipft's status is the command's, which is this last ping's, then.
        `${client(["ping", "-c", 1, "-W", 1, ADDR.server.v4])} >/dev/null 2>&1 || true`,
        "kill $SINK 2>/dev/null; wait",
      ),
    ]);
    events = jsonLines<Event>(live.stdout);
  });
  after(() => {
    rt?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const drops = () => events.filter((e) => e.verdict === "drop");
  const find = (reason: string, fn: RegExp) =>
    drops().find((e) => e.drop_reason === reason && fn.test(String(e.location)));

  test("an expired TTL in forwarding says so (not a bad header), with the time exceeded sent back", () => {
    assert.equal(live.status, 0, live.stderr);
    const d = find("IP_INHDR", /^ip_forward\+/);
    assert.ok(d, live.stdout);
    assert.equal(d.explanation?.cause, "TTL_EXPIRED");
    assert.equal(d.explanation?.failure, true);
    assert.match(d.explanation!.text, /TTL .* ran out .* ICMP time exceeded/);
    // The sender got the ICMP time exceeded the sentence promises.
    assert.match(readFileSync(pingOut, "utf8"), /Time to live exceeded/);
    assert.deepEqual(d.explanation?.facts, {
      ttl: "1",
      device: "veth-rc",
      namespace: rt!.ns.router,
      reply: `ICMP time exceeded to ${ADDR.client.v4}`,
    });
  });

  test("a packet over the next link's MTU with DF set: MTU_EXCEEDED, with the fragmentation needed sent back", () => {
    const d = find("PKT_TOO_BIG", /^ip_forward\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["MTU_EXCEEDED", true]);
    assert.match(d.explanation!.text, /ICMP fragmentation needed/);
    assert.match(readFileSync(pingMtu, "utf8"), /Frag needed and DF set \(mtu = 1280\)/);
    assert.deepEqual(d.explanation?.facts, {
      length: "1328",
      df: "set",
      ingress: "veth-rc mtu 1500",
      namespace: rt!.ns.router,
      egress: "veth-rs mtu 1280 (read after the drop)",
      reply: `ICMP fragmentation needed to ${ADDR.client.v4}`,
    });
  });

  test("UDP to a closed port: a failure, with the port unreachable sent back", () => {
    const d = find("NO_SOCKET", /^__udp4_lib_rcv\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["NO_SOCKET", true]);
    assert.match(d.explanation!.text, /ICMP port unreachable/);
    assert.deepEqual(d.explanation?.facts, {
      protocol: "UDP",
      destination: `${ADDR.server.v4}:${CLOSED}`,
      device: "veth-s",
      namespace: rt!.ns.server,
      reply: `ICMP port unreachable to ${ADDR.client.v4} (unless rate-limited)`,
    });
    // The sender's connected socket got the port unreachable.
    assert.match(readFileSync(udpOut, "utf8"), /ECONNREFUSED/);
  });

  test("TCP to a closed port: the port and namespace named, the reset sent back", () => {
    const d = find("NO_SOCKET", /^tcp_v4_rcv\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual(d.explanation?.facts, {
      protocol: "TCP",
      destination: `${ADDR.server.v4}:${CLOSED_TCP}`,
      device: "veth-s",
      namespace: rt!.ns.server,
      reply: `TCP reset to ${ADDR.client.v4}`,
    });
    assert.match(readFileSync(tcpOut, "utf8"), /ECONNREFUSED/);
  });

  test("a spoofed source under strict rp_filter: the device, its mode and the source", () => {
    const d = find("IP_RPFILTER", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual(d.explanation?.facts, {
      source: SPOOFED,
      device: "veth-rc",
      namespace: rt!.ns.router,
      rp_filter: "strict (net.ipv4.conf.veth-rc.rp_filter=1, all=0, read after the drop)",
    });
  });

  test("forwarding off on the router: NO_ROUTE (the kernel says IP_INADDRERRORS), forwarding named off", () => {
    const d = find("IP_INADDRERRORS", /^ip_error\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["NO_ROUTE", true]);
    assert.deepEqual(d.explanation?.facts, {
      destination: ADDR.server.v4,
      device: "veth-rc",
      namespace: rt!.ns.router,
      forwarding:
        "off (net.ipv4.conf.veth-rc.forwarding=0, as net.ipv4.ip_forward=0 sets; read after the drop)",
    });
  });

  test("a full queue: QDISC_DROP, with the device and its qdisc's kind and limit", () => {
    const d = find("QDISC_DROP", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["QDISC_DROP", true]);
    assert.deepEqual(d.explanation?.facts, {
      device: "veth-rq",
      namespace: rt!.ns.router,
      qdisc: "pfifo limit 0 (root; read after the drop)",
    });
  });

  test("a tc program returning TC_ACT_SHOT: TC_INGRESS, with the device, the direction and the program", (t) => {
    if (tcSkip) return t.skip(tcSkip);
    // The router's ARP request for SILENT_DST, dropped as it arrives at veth-rtp.
    const d = find("TC_INGRESS", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual(d.explanation?.facts, {
      device: "veth-rtp",
      namespace: rt!.ns.router,
      direction: "ingress",
      programs: `ipft_shot id ${shotId} (bpf direct-action) (read after the drop)`,
    });
  });

  test("a neighbour that never answered: NEIGH_FAILED, with the next hop, its state and the reply", (t) => {
    if (tcSkip) return t.skip(tcSkip);
    const d = find("NEIGH_FAILED", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual(d.explanation?.facts, {
      destination: SILENT_DST,
      device: "veth-rt",
      namespace: rt!.ns.router,
      neighbour: `${SILENT_DST} dev veth-rt FAILED (read after the drop)`,
      probes: "up to 3 ARP requests (net.ipv4.neigh.veth-rt.mcast_solicit=3, read after the drop)",
      reply: `ICMP host unreachable to ${ADDR.client.v4}`,
    });
    assert.match(readFileSync(silentOut, "utf8"), /Destination Host Unreachable/);
  });

  test("a UDP socket nobody reads, flooded: SOCKET_RCVBUFF, with its buffer and queue at the drop and its owner", () => {
    const d = find("SOCKET_RCVBUFF", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["SOCKET_RCVBUFF", true]);
    const [pid, rcvbuf, comm] = readFileSync(sinkFile, "utf8").trim().split(" ");
    const f = d.explanation!.facts!;
    const known = {
      protocol: "UDP",
      destination: `${ADDR.server.v4}:${FULL}`,
      device: "veth-s",
      namespace: rt!.ns.server,
    };
    // kfree_skb gives the socket (rx_sk) since Linux 6.11; before, the socket is found by the destination
    // after the drop, its buffer not known.
    const [major, minor] = release().split(".").map(Number);
    if (major! < 6 || (major === 6 && minor! < 11)) {
      const NOT_GIVEN = "kfree_skb gives no socket on this kernel (its rx_sk came with Linux 6.11)";
      assert.match(f.queued ?? "", /^\d+ bytes, \d+ drops so far \(read after the drop\)$/);
      assert.deepEqual(f, {
        ...known,
        socket: `${ADDR.server.v4}:${FULL} (found by the destination in /proc/net/udp, read after the drop)`,
        rcvbuf: `not read (${NOT_GIVEN})`,
        queued: f.queued,
        owner: `pid ${pid} (${comm}) (read after the drop)`,
      });
      return;
    }
    const queued = Number(/^(\d+) bytes$/.exec(f.queued ?? "")?.[1]);
    assert.deepEqual(f, {
      ...known,
      socket: `${ADDR.server.v4}:${FULL}`,
      rcvbuf: `${rcvbuf} bytes`,
      queued: `${queued} bytes`,
      owner: `pid ${pid} (${comm}) (read after the drop)`,
    });
    // It held data (the datagrams before the drop), about as much as its buffer allows.
    assert.ok(queued > 0 && queued <= 2 * Number(rcvbuf), f.queued);
  });

  test("an XDP program returning XDP_DROP: XDP, with the device, the direction and the program", (t) => {
    if (xdpSkip) return t.skip(xdpSkip);
    // Generic XDP frees what its program drops with no reason (6.1 to 6.18: plain kfree_skb); the place
    // tells (rules.ts). Reason XDP is for a failed redirect there.
    const d = find("NOT_SPECIFIED", /^(do_xdp_generic|netif_receive_generic_xdp)\+/) ?? find("XDP", /./);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["XDP", true], String(d.location));
    assert.deepEqual(d.explanation?.facts, {
      device: "veth-rxp",
      namespace: rt!.ns.router,
      direction: "ingress (XDP)",
      program: `ipft_xdp_drop id ${xdpId} (generic; read after the drop)`,
    });
  });

  test("an XDP program in driver mode on a veth: XDP, veth's receive path named, with the program", (t) => {
    if (xdpSkip) return t.skip(xdpSkip);
    // veth_xdp_rcv_skb frees what its program drops with no reason; the place tells (rules.ts).
    const d = find("NOT_SPECIFIED", /^veth_xdp_rcv_skb\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["XDP", true]);
    assert.match(String(d.explanation?.text), /^veth's XDP receive path \(driver mode\)/);
    assert.deepEqual(d.explanation?.facts, {
      device: "veth-rnp",
      namespace: rt!.ns.router,
      direction: "ingress (XDP)",
      program: `ipft_xdp_drop id ${xdpId} (driver; read after the drop)`,
    });
  });

  test("ping's echo reply: ping_rcv frees the original (NO_SOCKET), a copy is read by ping: not a failure", () => {
    const d = find("NO_SOCKET", /^(ping_rcv|icmp_rcv)\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["ECHO_REPLY_NOT_CLAIMED", false]);
    // The copy the raw socket got was read by ping (its data copied to user space).
    assert.ok(
      events.some(
        (e) =>
          e.delivered === true &&
          e.timestamp !== undefined &&
          BigInt(String(e.timestamp)) > BigInt(String(d.timestamp)),
      ),
      "a copy delivered after the original's drop",
    );
  });

  test("a packet socket closed with packets queued: its queue is purged, not a failure", () => {
    // QUEUE_PURGE since 6.6; before, skb_queue_purge frees with no reason.
    const d = find("QUEUE_PURGE", /./) ?? find("NOT_SPECIFIED", /^skb_queue_purge\+/);
    assert.ok(d, live.stdout);
    assert.deepEqual([d.explanation?.cause, d.explanation?.failure], ["QUEUE_PURGE", false]);
  });

  test("the summary counts benign drops apart and gives each cause's sentence", () => {
    const failures = drops().filter((e) => e.explanation?.failure !== false).length;
    const benign = drops().length - failures;
    const head = new RegExp(`^\\d+ packets: ${failures} dropped, ${benign} benign drops?, `, "m");
    assert.match(live.stderr, head);
    const dropped = live.stderr.split("\n").find((l) => l.startsWith(`${failures} dropped: `));
    assert.ok(dropped, live.stderr);
    assert.match(dropped, /TTL_EXPIRED \(IP_INHDR\) at ip_forward \(1\)/);
    assert.match(dropped, /MTU_EXCEEDED \(PKT_TOO_BIG\) at ip_forward \(1\)/);
    assert.match(dropped, /NO_SOCKET at __udp4_lib_rcv/);
    assert.doesNotMatch(dropped, /ping_rcv|QUEUE_PURGE/);
    assert.match(live.stderr, /^\d+ benign drops? \(not failures\): .*ECHO_REPLY_NOT_CLAIMED \(NO_SOCKET\)/m);
    assert.match(live.stderr, /^ {2}TTL_EXPIRED: its TTL/m);
    assert.match(live.stderr, /^ {2}ECHO_REPLY_NOT_CLAIMED: an ICMP echo reply/m);
  });

  test("--read --drops of the trace file: the failures only, explained as live", () => {
    const r = ipft(["--read", file, "--drops", "-o", "json"]);
    assert.equal(r.status, 0, r.stderr);
    const read = jsonLines<Event>(r.stdout).filter((e) => e.verdict === "drop");
    assert.ok(read.length > 0, r.stdout);
    assert.ok(
      read.every((e) => e.explanation?.failure === true),
      r.stdout,
    );
    // The same explanations with the same facts: those read in the kernel are in each event, those read in
    // the system after the drop were kept in the file as the live run read them.
    const want = drops()
      .filter((e) => e.explanation?.failure)
      .map((e) => JSON.stringify(e.explanation));
    assert.deepEqual(
      read.map((e) => JSON.stringify(e.explanation)),
      want,
    );
    // The aggregate output writes a drop's facts after its cause's sentence.
    const agg = ipft(["--read", file, "--drops"]);
    assert.equal(agg.status, 0, agg.stderr);
    assert.match(
      agg.stdout,
      new RegExp(
        `^Cause: no TCP socket .*\\(protocol TCP, destination ${ADDR.server.v4}:${CLOSED_TCP}, device veth-s, namespace ${rt!.ns.server}, reply TCP reset to ${ADDR.client.v4}\\)$`,
        "m",
      ),
    );
  });
});
