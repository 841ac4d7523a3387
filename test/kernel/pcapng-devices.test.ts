// -w on real traffic records each event's device and network namespace: the file has one interface per
// (device, namespace, link type), named after the device, and json (-o json with -w) prints ifname,
// ifindex and netns. Loopback UDP shows "lo" in this namespace; UDP across a veth pair between two
// namespaces shows both veth devices, each with its own namespace's inode.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeVethPair, netnsSkipReason, trafficCommand, type VethPair } from "../support/netns.js";
import { hasTool, ipft, jsonLines, kernelSkipReason, onePassSkipReason, senderArgs } from "../support/run.js";

const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const SELECT =
  BACKEND === "tracepoint"
    ? ["-b", BACKEND]
    : ["-b", BACKEND, "-r", "^(ip_rcv|__udp4_lib_rcv|udp_rcv|ip_output|ip_finish_output2|__dev_queue_xmit)$"];
const skip = kernelSkipReason() ?? (hasTool("tshark") ? undefined : "needs tshark");
const dir = mkdtempSync(join(tmpdir(), "ipft-pcapng-dev-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each frame's interface name and description, as tshark reads them. */
function interfaces(file: string): { name: string; description: string }[] {
  const r = spawnSync(
    "tshark",
    ["-r", file, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.interface_description"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split("\n")
    .filter((l) => l)
    .map((l) => {
      const [name, description] = l.split("\t");
      return { name: name!, description: description ?? "" };
    });
}

interface JsonEvent {
  packet_id: number;
  function: string;
  ifname?: string;
  ifindex?: number;
  netns?: number;
}

/** Each net_dev_xmit event names the device and namespace of its packet's net_dev_start_xmit before it
 * (the device the tracepoint is given, not skb->dev: on a veth that is the peer's by then). Returns how
 * many net_dev_xmit events were checked. */
function xmitOnSendingDevice(evs: JsonEvent[]): number {
  const started = new Map<number, JsonEvent>();
  let n = 0;
  for (const e of evs) {
    if (e.function === "net_dev_start_xmit") started.set(e.packet_id, e);
    if (e.function !== "net_dev_xmit") continue;
    const s = started.get(e.packet_id);
    assert.ok(s, `net_dev_xmit of ${e.packet_id} without its net_dev_start_xmit: ${JSON.stringify(e)}`);
    assert.equal(`${e.ifname} ${e.netns}`, `${s.ifname} ${s.netns}`, JSON.stringify(e));
    n++;
  }
  return n;
}

/** The json output's device keys, per event. */
function jsonDevices(out: string): JsonEvent[] {
  return jsonLines(out);
}

describe("loopback UDP traced with -w: the device is lo", { skip }, () => {
  const MARK = 0x2a;
  const file = join(dir, "lo.pcapng");
  let live: ReturnType<typeof ipft>;
  before(() => {
    live = ipft([
      ...SELECT,
      "-m",
      String(MARK),
      "-o",
      "json",
      "-w",
      file,
      "--",
      ...senderArgs(MARK, ["--count", "3", "--port", "9712"]),
    ]);
  });

  test("tshark names the frames' interface lo, with this namespace's inode", () => {
    assert.equal(live.status, 0, live.stderr);
    const inode = statSync("/proc/self/ns/net").ino;
    const frames = interfaces(file);
    assert.ok(frames.length >= 3, live.stdout);
    const lo = frames.filter((f) => f.name === "lo");
    assert.ok(lo.length > 0, JSON.stringify(frames));
    // The namespace named after its inode: ipft runs in the initial one, "root".
    for (const f of lo) assert.match(f.description, new RegExp(`^netns ${inode} "root" ifindex 1\\b`));
  });

  test("json has ifname, ifindex and netns on every event, and --read prints the same", () => {
    const inode = statSync("/proc/self/ns/net").ino;
    const evs = jsonDevices(live.stdout);
    assert.ok(evs.length >= 3, live.stdout);
    for (const e of evs) {
      assert.equal(typeof e.ifname, "string");
      assert.equal(typeof e.ifindex, "number");
      // A datagram its socket has read (consume_skb from udp_recvmsg on 6.12) has neither a device nor a
      // socket any more: no namespace to tell, 0.
      if (e.ifname === "" && e.ifindex === 0 && e.netns === 0) continue;
      assert.equal(e.netns, inode, JSON.stringify(e));
    }
    assert.ok(evs.filter((e) => e.netns === inode).length >= 3, live.stdout);
    assert.ok(
      evs.some((e) => e.ifname === "lo" && e.ifindex === 1),
      live.stdout,
    );
    const back = ipft(["--read", file, "-o", "json"]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.stdout, live.stdout);
  });
});

describe("UDP across a veth pair between two namespaces, traced with -w", {
  skip: skip ?? netnsSkipReason(),
}, () => {
  const PORT = 7822;
  const MARK = 0x7b3;
  let pair: VethPair | undefined;
  before(() => {
    pair = makeVethPair("ipftpd", PORT, MARK);
  });
  after(() => pair?.remove());

  test("both veth devices are interfaces of the file, each in its own namespace", () => {
    const p = pair!;
    const file = join(dir, "veth.pcapng");
    const cmd = trafficCommand({
      kind: "udp",
      serverNs: p.nsB,
      clientNs: p.nsA,
      host: p.addrB,
      port: PORT,
      srcPort: 40322,
      size: 200,
      ready: join(dir, "veth-ready"),
    });
    const live = ipft([...SELECT, "-m", String(MARK), "-o", "json", "-w", file, "--", ...cmd]);
    assert.equal(live.status, 0, live.stderr);
    const inoA = statSync(`/run/netns/${p.nsA}`).ino;
    const inoB = statSync(`/run/netns/${p.nsB}`).ino;
    const frames = interfaces(file);
    const names = new Set(frames.map((f) => f.name));
    assert.ok(names.has(p.devA) && names.has(p.devB), [...names].join(" "));
    for (const f of frames) {
      if (f.name === p.devA) assert.match(f.description, new RegExp(`^netns ${inoA} "${p.nsA}" `));
      if (f.name === p.devB) assert.match(f.description, new RegExp(`^netns ${inoB} "${p.nsB}" `));
    }
    const evs = jsonDevices(live.stdout);
    assert.ok(evs.some((e) => e.ifname === p.devA && e.netns === inoA));
    assert.ok(evs.some((e) => e.ifname === p.devB && e.netns === inoB));
    // The datagram and its echo each leave through one veth device: net_dev_xmit names it.
    if (BACKEND === "tracepoint") assert.ok(xmitOnSendingDevice(evs) >= 2, live.stdout);
    const back = ipft(["--read", file, "-o", "json"]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(back.stdout, live.stdout);
  });

  test("--netns selects net_dev_xmit in the sending namespace (its device argument, not skb->dev)", {
    skip: onePassSkipReason(),
  }, () => {
    const p = pair!;
    const file = join(dir, "veth-netns.pcapng");
    const cmd = trafficCommand({
      kind: "udp",
      serverNs: p.nsB,
      clientNs: p.nsA,
      host: p.addrB,
      port: PORT,
      srcPort: 40323,
      size: 200,
      ready: join(dir, "veth-netns-ready"),
    });
    // Without tracking every event is selected on its own: by namespace A and the port.
    const live = ipft([
      "-b",
      "tracepoint",
      "--no-track",
      "--netns",
      p.nsA,
      `udp port ${PORT}`,
      "-o",
      "json",
      "-w",
      file,
      "--",
      ...cmd,
    ]);
    assert.equal(live.status, 0, live.stderr);
    const inoA = statSync(`/run/netns/${p.nsA}`).ino;
    const evs = jsonDevices(live.stdout);
    for (const e of evs) assert.equal(e.netns, inoA, JSON.stringify(e));
    // The datagram's: selected in A where it is sent; the echo's, sent from B, is not.
    assert.equal(xmitOnSendingDevice(evs), 1, live.stdout);
    assert.ok(evs.some((e) => e.function === "net_dev_xmit" && e.ifname === p.devA));
  });
});
