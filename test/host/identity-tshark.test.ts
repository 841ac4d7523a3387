// The packet decoder against tshark, an independent reading of the same bytes. Built packets: thousands of
// generated frames (test/filter/packets.ts: IPv4/IPv6, TCP, UDP, ICMP, ICMPv6, ARP, VLAN tags, options,
// fragments, cut frames) and tunnelled (VXLAN, Geneve, GRE, gretap, IPIP, SIT) and ICMP-error packets,
// written to a pcapng file. Real packets: the kernel's own, captured by dumpcap on a veth between two
// namespaces (ARP, ICMP and ICMPv6 echo, neighbor discovery, a refused TCP connection, an ICMP port
// unreachable, a ping through VXLAN). tshark's fields for each (addresses, ports, TCP seq/flags, ICMP
// type/code/id/seq/MTU, ARP, VLAN ids, VXLAN/Geneve VNIs, GRE keys, every occurrence, inner and quoted
// packets included) must be what the decoder found, and the real packets' lines read as expected.
// Needs tshark (and for the capture root, iproute2, dumpcap, ping and VXLAN); skipped, saying so,
// without them. The capture makes named namespaces: run under flock /tmp/ipft-host.lock.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Header, PacketIdentity } from "../../src/identity/headers.js";
import { decodePacket, identityText } from "../../src/identity/index.js";
import { LINKTYPE_ETHERNET } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { readPcapngFile } from "../../src/pcapng/reader.js";
import { openBlockSink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { LINK_ETHERNET } from "../../src/record/record.js";
import { generate } from "../filter/packets.js";
import {
  arp,
  type Bytes,
  be16,
  be32,
  ether,
  geneve,
  gre,
  icmp,
  ipv4,
  ipv6,
  payload,
  tcp,
  udp,
  vxlan,
} from "../identity/packets.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasTshark = spawnSync("tshark", ["--version"]).status === 0;
const skip = hasTshark ? false : "tshark is not installed (apt-get install tshark)";
if (skip) console.log(`# skipping the tshark comparison: ${skip}`);

const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, "0")}`;

/** tshark field -> the decoder's values for it, in header order (a tunnel's inner headers after the outer,
 * an ICMP error's quoted packet after the ICMP header). */
const FIELDS: Record<string, (h: Header) => string | number | undefined> = {
  "vlan.id": (h) => (h.kind === "vlan" && h.tpid === 0x8100 ? h.id : undefined),
  "ieee8021ad.id": (h) => (h.kind === "vlan" && h.tpid === 0x88a8 ? h.id : undefined),
  "arp.opcode": (h) => (h.kind === "arp" ? h.op : undefined),
  "arp.src.proto_ipv4": (h) => (h.kind === "arp" ? h.senderIp : undefined),
  "arp.dst.proto_ipv4": (h) => (h.kind === "arp" ? h.targetIp : undefined),
  "ip.src": (h) => (h.kind === "ipv4" ? h.src : undefined),
  "ip.dst": (h) => (h.kind === "ipv4" ? h.dst : undefined),
  "ip.proto": (h) => (h.kind === "ipv4" ? h.protocol : undefined),
  "ip.ttl": (h) => (h.kind === "ipv4" ? h.ttl : undefined),
  "ipv6.src": (h) => (h.kind === "ipv6" ? h.src : undefined),
  "ipv6.dst": (h) => (h.kind === "ipv6" ? h.dst : undefined),
  "tcp.srcport": (h) => (h.kind === "tcp" ? h.sport : undefined),
  "tcp.dstport": (h) => (h.kind === "tcp" ? h.dport : undefined),
  "tcp.seq_raw": (h) => (h.kind === "tcp" ? h.seq : undefined),
  "tcp.flags": (h) =>
    h.kind === "tcp" && h.flags !== undefined ? `0x${h.flags.toString(16).padStart(4, "0")}` : undefined,
  "udp.srcport": (h) => (h.kind === "udp" ? h.sport : undefined),
  "udp.dstport": (h) => (h.kind === "udp" ? h.dport : undefined),
  "icmp.type": (h) => (h.kind === "icmp" ? h.type : undefined),
  "icmp.code": (h) => (h.kind === "icmp" ? h.code : undefined),
  "icmp.ident": (h) => (h.kind === "icmp" ? h.id : undefined),
  "icmp.seq": (h) => (h.kind === "icmp" ? h.seq : undefined),
  "icmp.mtu": (h) => (h.kind === "icmp" ? h.mtu : undefined),
  "icmpv6.type": (h) => (h.kind === "icmp6" ? h.type : undefined),
  "icmpv6.code": (h) => (h.kind === "icmp6" ? h.code : undefined),
  "icmpv6.echo.identifier": (h) => (h.kind === "icmp6" && h.id !== undefined ? hex(h.id, 4) : undefined),
  "icmpv6.echo.sequence_number": (h) => (h.kind === "icmp6" ? h.seq : undefined),
  "icmpv6.mtu": (h) => (h.kind === "icmp6" ? h.mtu : undefined),
  "vxlan.vni": (h) => (h.kind === "vxlan" ? h.vni : undefined),
  "geneve.vni": (h) => (h.kind === "geneve" ? hex(h.vni, 6) : undefined),
  "gre.key": (h) =>
    h.kind === "gre" && h.key !== undefined ? `0x${h.key.toString(16).padStart(8, "0")}` : undefined,
};
const NAMES = Object.keys(FIELDS);

function flatten(id: PacketIdentity): Header[] {
  return id.headers.flatMap((h) => ("quoted" in h && h.quoted ? [h, ...flatten(h.quoted)] : [h]));
}

function mine(id: PacketIdentity): string[][] {
  const hs = flatten(id);
  return NAMES.map((f) =>
    hs
      .map(FIELDS[f]!)
      .filter((v) => v !== undefined)
      .map(String),
  );
}

/** Tunnelled and ICMP-error packets, built for this test. */
function tunnels(): Bytes[] {
  const inner = ether(
    0x0800,
    ipv4("192.168.0.1", "192.168.0.2", 1, icmp(8, 0, [...be16(9), ...be16(4)], payload(56))),
  );
  const innerTcp = ipv4("192.168.0.1", "192.168.0.2", 6, tcp(1234, 8080, 0x12, { seq: 77, ack: 88 }));
  const udpQ = ipv4("10.0.0.1", "10.0.0.2", 17, udp(40000, 53, payload(12))).slice(0, 28);
  return [
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(54321, 4789, vxlan(42, inner)))),
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 17, udp(40000, 6081, geneve(0xabcdef, 0x6558, inner)))),
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, innerTcp, { key: 0x2a }))),
    ether(
      0x0800,
      ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x0800, innerTcp, { key: 0xdeadbeef, checksum: true, seq: 5 })),
    ),
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 47, gre(0x6558, inner))),
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 4, innerTcp)),
    ether(0x0800, ipv4("10.1.0.1", "10.1.0.2", 41, ipv6("fd00::1", "fd00::2", 17, udp(5, 6, [])))),
    ether(
      0x86dd,
      ipv6(
        "2001:db8::a",
        "2001:db8::b",
        47,
        gre(0x86dd, ipv6("fd00::1", "fd00::2", 6, tcp(1, 2, 2, { seq: 3 }))),
      ),
    ),
    ether(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 3, [0, 0, 0, 0], udpQ))),
    ether(0x0800, ipv4("10.0.0.2", "10.0.0.1", 1, icmp(3, 4, [0, 0, ...be16(1400)], udpQ))),
    ether(0x0800, ipv4("10.0.0.254", "10.0.0.1", 1, icmp(11, 0, [0, 0, 0, 0], udpQ))),
    ether(
      0x86dd,
      ipv6(
        "2001:db8::fe",
        "2001:db8::1",
        58,
        icmp(2, 0, be32(1280), ipv6("2001:db8::1", "2001:db8::2", 17, udp(5000, 53, payload(8)))),
      ),
    ),
    ether(0x0806, arp(1, "02:00:00:00:00:01", "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2"), [{ id: 100 }]),
    ether(0x0806, arp(2, "02:00:00:00:00:02", "10.0.0.2", "02:00:00:00:00:01", "10.0.0.1")),
  ];
}

/** The differences between tshark's fields for the packets of `file` and the decoder's for `frames`
 * (the same packets), and how many were cut. */
function compareWithTshark(file: string, frames: Uint8Array[]): { diffs: string[]; cut: number } {
  const args = ["-r", file, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"];
  for (const f of NAMES) args.push("-e", f);
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.split("\n").slice(0, -1);
  assert.equal(rows.length, frames.length);
  const diffs: string[] = [];
  let cut = 0;
  rows.forEach((row, i) => {
    const theirs = row.split("\t").map((v) => (v ? v.split(",") : []));
    const id = decodePacket(frames[i]!, LINK_ETHERNET);
    const ours = mine(id);
    // Where the bytes end inside a header, tshark shows the fields it could read of it and ipft stops at
    // the header (IP headers are read whole): there, the values both give must agree, in order.
    const truncated =
      id.stop?.why === "truncated" || flatten(id).some((h) => "quoted" in h && h.quoted?.stop);
    if (truncated) cut++;
    NAMES.forEach((f, k) => {
      const a = theirs[k] ?? [];
      const b = ours[k]!;
      const n = truncated ? Math.min(a.length, b.length) : Math.max(a.length, b.length);
      if (a.slice(0, n).join() !== b.slice(0, n).join())
        diffs.push(`packet ${i + 1} ${f}: tshark "${a}", ipft "${b}"${truncated ? " (cut)" : ""}`);
    });
  });
  return { diffs, cut };
}

test("the decoder reads what tshark reads, field by field, on generated and tunnelled packets", {
  skip,
}, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-identity-tshark-"));
  t.after(() => rmSync(dir, { recursive: true }));
  const file = join(dir, "packets.pcapng");
  const frames = [...tunnels().map((b) => new Uint8Array(b)), ...generate(2000, 5).map((p) => p.ether)];
  const w = new PcapngWriter(openBlockSink(file), { userappl: "ipft identity test" });
  const iface = w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_ETHERNET });
  frames.forEach((data, i) => {
    writePacket(w, { interfaceId: iface, timestampNs: BigInt(i) * 1000n, data });
  });
  w.close({});
  const { diffs, cut } = compareWithTshark(file, frames);
  assert.deepEqual(diffs.slice(0, 40), [], `${diffs.length} differences`);
  assert.ok(cut > 100 && cut < frames.length / 3, `${cut} of ${frames.length} packets were cut`);
});

// Real packets: the kernel's own, captured by dumpcap on a veth in a namespace while ARP, ICMP echo (IPv4
// and IPv6, with neighbor discovery), a refused TCP connection, a UDP datagram to a closed port (the ICMP
// error quoting it) and a ping through a VXLAN tunnel cross it.
const NS = `ipftid${process.pid}`;
const run = (...cmd: string[]) => spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" });
function liveSkipReason(): string | false {
  if (skip) return skip;
  if (process.getuid?.() !== 0) return "needs root (namespaces, dumpcap on a veth)";
  for (const tool of ["ip", "dumpcap", "ping"])
    if (run("sh", "-c", `command -v ${tool}`).status !== 0) return `needs ${tool}`;
  run("ip", "netns", "add", `${NS}p`);
  const vx = run("ip", "-n", `${NS}p`, "link", "add", "vx0", "type", "vxlan", "id", "1", "dstport", "4789");
  run("ip", "netns", "del", `${NS}p`);
  return vx.status === 0 ? false : `this kernel has no VXLAN devices: ${vx.stderr.trim()}`;
}
const liveSkip = liveSkipReason();
if (liveSkip) console.log(`# skipping the capture comparison: ${liveSkip}`);

test("on the kernel's own packets, captured on a veth, the decoder reads what tshark reads", {
  skip: liveSkip,
}, async (t) => {
  const a = `${NS}a`;
  const b = `${NS}b`;
  t.after(() => {
    run("ip", "netns", "del", a);
    run("ip", "netns", "del", b);
  });
  const steps = [
    ["ip", "netns", "add", a],
    ["ip", "netns", "add", b],
    ["ip", "link", "add", "vA", "netns", a, "type", "veth", "peer", "name", "vB", "netns", b],
    ["ip", "-n", a, "addr", "add", "10.77.0.1/24", "dev", "vA"],
    ["ip", "-n", b, "addr", "add", "10.77.0.2/24", "dev", "vB"],
    ["ip", "-n", a, "addr", "add", "fd77::1/64", "dev", "vA", "nodad"],
    ["ip", "-n", b, "addr", "add", "fd77::2/64", "dev", "vB", "nodad"],
    ["ip", "-n", a, "link", "set", "vA", "up"],
    ["ip", "-n", b, "link", "set", "vB", "up"],
    ...(
      [
        [a, "10.77.0.1", "10.77.0.2", "192.168.77.1"],
        [b, "10.77.0.2", "10.77.0.1", "192.168.77.2"],
      ] as const
    ).flatMap(([ns, local, remote, inner]) => [
      [
        "ip",
        "-n",
        ns,
        "link",
        "add",
        "vx0",
        "type",
        "vxlan",
        "id",
        "42",
        "dstport",
        "4789",
        "local",
        local,
        "remote",
        remote,
      ],
      ["ip", "-n", ns, "addr", "add", `${inner}/24`, "dev", "vx0"],
      ["ip", "-n", ns, "link", "set", "vx0", "up"],
    ]),
  ];
  for (const s of steps) assert.equal(run(...s).status, 0, s.join(" "));
  const dir = mkdtempSync(join(tmpdir(), "ipft-identity-capture-"));
  t.after(() => rmSync(dir, { recursive: true }));
  const file = join(dir, "veth.pcapng");
  const dumpcap = spawn("ip", ["netns", "exec", a, "dumpcap", "-i", "vA", "-w", file], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  t.after(() => dumpcap.kill());
  let said = "";
  await new Promise<void>((resolve, reject) => {
    dumpcap.stderr.on("data", (d: Buffer) => {
      said += d.toString();
      if (said.includes("Capturing on")) resolve();
    });
    dumpcap.once("exit", () => reject(new Error(`dumpcap ended: ${said}`)));
  });
  await sleep(200);
  const inA = (...cmd: string[]) => run("ip", "netns", "exec", a, ...cmd);
  inA("ip", "neigh", "flush", "dev", "vA"); // the tunnel's own traffic may have resolved it already
  assert.equal(inA("ping", "-c1", "-W2", "10.77.0.2").status, 0);
  assert.equal(inA("ping", "-c1", "-W2", "fd77::2").status, 0);
  assert.equal(inA("ping", "-c1", "-W2", "192.168.77.2").status, 0);
  inA("bash", "-c", "exec 3<>/dev/tcp/10.77.0.2/9"); // refused: SYN, then RST
  inA("bash", "-c", "echo hi > /dev/udp/10.77.0.2/53"); // port unreachable
  await sleep(500);
  const exited = new Promise((r) => dumpcap.once("exit", r));
  dumpcap.kill("SIGINT");
  await exited;
  const frames = readPcapngFile(file).packets.map((p) => p.data);
  assert.ok(frames.length >= 13, `${frames.length} packets captured`);
  const { diffs } = compareWithTshark(file, frames);
  assert.deepEqual(diffs, []);
  const lines = frames.map((f) => identityText(decodePacket(f, LINK_ETHERNET)));
  const want = [
    /^ARP, Request who-has 10\.77\.0\.2 tell 10\.77\.0\.1$/,
    /^ARP, Reply 10\.77\.0\.2 is-at [0-9a-f:]{17}$/,
    /^IP 10\.77\.0\.1 > 10\.77\.0\.2: ICMP echo request, id \d+, seq 1, length 64$/,
    /^IP 10\.77\.0\.2 > 10\.77\.0\.1: ICMP echo reply, id \d+, seq 1, length 64$/,
    /^IP6 fd77::1 > fd77::2: ICMP6, echo request, id \d+, seq 1, length 64$/,
    /^IP6 fd77::2 > fd77::1: ICMP6, echo reply, id \d+, seq 1, length 64$/,
    /^IP 10\.77\.0\.1\.\d+ > 10\.77\.0\.2\.4789: VXLAN, vni 42: ARP, Request who-has 192\.168\.77\.2 tell 192\.168\.77\.1$/,
    /^IP 10\.77\.0\.1\.\d+ > 10\.77\.0\.2\.4789: VXLAN, vni 42: IP 192\.168\.77\.1 > 192\.168\.77\.2: ICMP echo request, id \d+, seq 1, length 64$/,
    /^IP 10\.77\.0\.2\.\d+ > 10\.77\.0\.1\.4789: VXLAN, vni 42: IP 192\.168\.77\.2 > 192\.168\.77\.1: ICMP echo reply/,
    /^IP 10\.77\.0\.1\.\d+ > 10\.77\.0\.2\.9: Flags \[S\], seq \d+, win \d+, length 0$/,
    /^IP 10\.77\.0\.2\.9 > 10\.77\.0\.1\.\d+: Flags \[R\.\], seq 0, ack \d+, win 0, length 0$/,
    /^IP 10\.77\.0\.1\.\d+ > 10\.77\.0\.2\.53: UDP, length 3$/,
    /^IP 10\.77\.0\.2 > 10\.77\.0\.1: ICMP port unreachable for udp 10\.77\.0\.1\.\d+ > 10\.77\.0\.2\.53, length 39$/,
  ];
  for (const re of want)
    assert.ok(
      lines.some((l) => re.test(l)),
      `no line like ${re} in:\n${lines.join("\n")}`,
    );
});
