// Debian's tshark, capinfos and editcap as the independent judges of the files ipft writes: they read
// both interfaces, the comments and the dissected packets; a file cut inside its last block (by truncation
// or by SIGKILL of a writer) is read up to that block; `-w -` streams to `tshark -r -`; and a file
// rewritten by editcap (an independent writer) is read back by ipft's reader.
// Needs this machine: the installed tshark, capinfos and editcap (skipped, saying so, without tshark).

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { explainDrop } from "../../src/explain/explanation.js";
import { createWriter, numbered, PacketTracker } from "../../src/output/index.js";
import { PcapngOutput } from "../../src/output/pcapng.js";
import { replayInto, replayOf } from "../../src/output/pcapng-replay.js";
import { MonotonicClock } from "../../src/pcapng/clock.js";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { parsePcapng, readPcapngFile } from "../../src/pcapng/reader.js";
import { MemorySink, openBlockSink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { type Ev, IP_RCV, recordOffsets, records, symbolizer, UDP_RCV } from "../output/records.js";
import { etherIpv4Udp, ipv4Udp } from "../pcapng/packets.js";
import { tempDir } from "../support/temp-dir.js";

const UDP_WHY = explainDrop("NO_SOCKET", "__udp4_lib_rcv")!.text;

const hasTshark = spawnSync("tshark", ["--version"]).status === 0;
const skip = hasTshark
  ? false
  : "tshark is not installed (scripts/setup.sh installs it: apt-get install tshark)";
if (skip) console.log(`# skipping the tshark tests: ${skip}`);
const LOOP = fileURLToPath(new URL("../pcapng/write-loop.js", import.meta.url));
const dir = tempDir("ipft-pcapng-tshark");

/** tshark's stdout lines and status; its "running as root" line is left out of stderr. */
function tshark(args: string[]): { status: number; lines: string[]; stderr: string } {
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  return {
    status: r.status ?? -1,
    lines: r.stdout.split("\n").filter((l) => l !== ""),
    stderr: r.stderr.replace(/^Running as user "root".*\n?/m, ""),
  };
}

function sample(path: string, opts: { bigEndian?: boolean } = {}) {
  const w = new PcapngWriter(
    openBlockSink(path),
    { userappl: "ipft 0.1.0", comments: ["ipft -m 0x2a -- ping"] },
    opts,
  );
  const eth = w.interfaceFor({ name: "veth0", netns: 4026532000, linktype: LINKTYPE_ETHERNET });
  const raw = w.interfaceFor({ name: "lo", netns: 4026531840, linktype: LINKTYPE_RAW });
  const t = 1_700_000_000_000_000_000n;
  writePacket(w, {
    interfaceId: eth,
    timestampNs: t,
    data: etherIpv4Udp("10.1.0.1", "10.1.0.2", 40000, 53, 12),
    comments: ["ip_rcv skb=0xffff888800001000 cpu=0"],
    meta: { function: "ip_rcv", packet_id: "0xffff888800001000" },
    direction: "inbound",
    packetId: 0xffff888800001000n,
  });
  writePacket(w, {
    interfaceId: raw,
    timestampNs: t + 1500n,
    data: ipv4Udp("127.0.0.1", "127.0.0.2", 40001, 9999, 8),
    comments: ["kfree_skb skb=0xffff888800002000 cpu=1"],
    direction: "outbound",
    dropCount: 4,
  });
  w.close({ lostEvents: 4 });
}

test("tshark reads both interfaces, the comments, the dissected packets, and the ipft fields", {
  skip,
}, () => {
  const f = join(dir, "two.pcapng");
  sample(f);
  const r = tshark([
    "-r",
    f,
    "-T",
    "fields",
    "-E",
    "separator=|",
    "-e",
    "frame.comment",
    "-e",
    "ip.src",
    "-e",
    "udp.dstport",
    "-e",
    "frame.interface_name",
    "-e",
    "frame.time_epoch",
    "-e",
    "frame.packet_flags_direction",
    "-e",
    "frame.packet_id",
    "-e",
    "frame.drop_count",
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.lines, [
    `ip_rcv skb=0xffff888800001000 cpu=0,ipft:{"function":"ip_rcv","packet_id":"0xffff888800001000"}|10.1.0.1|53|veth0|1700000000.000000000|0x00000001|${0xffff888800001000n}|`,
    "kfree_skb skb=0xffff888800002000 cpu=1|127.0.0.1|9999|lo|1700000000.000001500|0x00000002||4",
  ]);
  // The filters the documentation gives.
  const kfree = tshark([
    "-r",
    f,
    "-Y",
    'frame.comment contains "kfree_skb"',
    "-T",
    "fields",
    "-e",
    "frame.number",
  ]);
  assert.deepEqual(kfree.lines, ["2"]);
  const byId = tshark([
    "-r",
    f,
    "-Y",
    "frame.packet_id == 0xffff888800001000",
    "-T",
    "fields",
    "-e",
    "ip.dst",
  ]);
  assert.deepEqual(byId.lines, ["10.1.0.2"]);
  const fn = tshark([
    "-r",
    f,
    "-Y",
    'frame.comment contains "\\"function\\":\\"ip_rcv\\""',
    "-T",
    "fields",
    "-e",
    "frame.number",
  ]);
  assert.deepEqual(fn.lines, ["1"]);
});

test("capinfos reads the file without error: 2 packets, 2 interfaces, nanoseconds, the section comment", {
  skip,
}, () => {
  const f = join(dir, "caps.pcapng");
  sample(f);
  const r = spawnSync("capinfos", [f], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /error|cut short/i);
  assert.match(r.stdout, /Number of packets:\s+2\n/);
  assert.match(r.stdout, /Number of interfaces in file: 2/);
  assert.match(r.stdout, /File timestamp precision:\s+nanoseconds \(9\)/);
  assert.match(r.stdout, /Capture application: ipft 0\.1\.0/);
  assert.match(r.stdout, /Capture comment:\s+ipft -m 0x2a -- ping/);
  assert.match(r.stdout, /Encapsulation = Raw IP/);
});

test("a big-endian file is read by tshark the same way", { skip }, () => {
  const f = join(dir, "be.pcapng");
  sample(f, { bigEndian: true });
  assert.equal(readFileSync(f)[11], 0x4d, "the magic is stored big endian");
  const r = tshark(["-r", f, "-T", "fields", "-e", "ip.src", "-e", "frame.interface_name"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.lines, ["10.1.0.1\tveth0", "127.0.0.1\tlo"]);
});

test("a file cut a few bytes into its last packet: tshark and ipft read the packets before it", {
  skip,
}, () => {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "ipft" });
  const id = w.interfaceFor({ name: "lo", netns: 1, linktype: LINKTYPE_RAW });
  for (let i = 0; i < 5; i++)
    writePacket(w, {
      interfaceId: id,
      timestampNs: BigInt(i),
      data: ipv4Udp("127.0.0.1", "127.0.0.1", 1, 100 + i, 4),
      comments: [`e${i}`],
    });
  const bytes = sink.bytes();
  const last = parsePcapng(bytes).packets.at(-1)!.offset;
  const f = join(dir, "cut.pcapng");
  writeFileSync(f, bytes.subarray(0, last + 10));
  const r = tshark(["-r", f, "-T", "fields", "-e", "frame.comment", "-e", "udp.dstport"]);
  assert.deepEqual(r.lines, ["e0\t100", "e1\t101", "e2\t102", "e3\t103"]);
  assert.match(r.stderr, /cut short in the middle of a packet/);
  assert.notEqual(r.status, 0, "tshark reports the cut in its status");
  const ours = readPcapngFile(f);
  assert.deepEqual(
    [ours.truncated, ours.packets.map((p) => p.comments[0])],
    [true, ["e0", "e1", "e2", "e3"]],
  );
});

test("a writer killed by SIGKILL mid-run leaves a file tshark reads up to its last whole block", {
  skip,
}, async () => {
  const f = join(dir, "killed.pcapng");
  const child = spawn(process.execPath, [LOOP, f, "0", "8"], { stdio: "ignore" });
  const exited = new Promise((res) => child.on("exit", res));
  // Let it write a few hundred kilobytes, then kill it without warning.
  const deadline = Date.now() + 20_000;
  for (;;) {
    await new Promise((res) => setTimeout(res, 20));
    let size = 0;
    try {
      size = statSync(f).size;
    } catch {}
    if (size > 300_000 || Date.now() > deadline) break;
  }
  child.kill("SIGKILL");
  await exited;
  const ours = readPcapngFile(f);
  const n = ours.packets.length;
  assert.ok(n > 1000, `${n} packets before the kill`);
  assert.deepEqual(
    ours.packets.map((p) => p.comments[0]),
    Array.from({ length: n }, (_, i) => `event ${i}`),
    "every packet before the cut, in order, none damaged",
  );
  const r = tshark(["-r", f, "-T", "fields", "-e", "frame.comment"]);
  assert.equal(r.lines.length, n, "tshark reads as many packets as ipft's reader");
  assert.equal(r.lines.at(-1), `event ${n - 1}`);
  if (ours.truncated) assert.match(r.stderr, /cut short/);
  else assert.equal(r.status, 0, r.stderr);
  // The same file cut a few bytes into its last packet (what a write(2) stopped part way leaves).
  const last = ours.packets.at(-1)!.offset;
  truncateSync(f, last + 6);
  const cut = tshark(["-r", f, "-T", "fields", "-e", "frame.comment"]);
  assert.equal(cut.lines.length, n - 1);
  assert.match(cut.stderr, /cut short/);
});

test("-w - streams to `tshark -r -` through a pipe", { skip }, () => {
  const r = spawnSync(
    "sh",
    [
      "-c",
      `"${process.execPath}" "${LOOP}" - 300 16 | tshark -r - -T fields -e frame.comment -e udp.dstport`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").filter(Boolean);
  assert.equal(lines.length, 300);
  assert.equal(lines[0], "event 0\t2000");
  assert.equal(lines[299], "event 299\t3299");
});

test("a file rewritten by editcap (an independent writer) is read back by ipft's reader", { skip }, () => {
  const f = join(dir, "orig.pcapng");
  const g = join(dir, "editcap.pcapng");
  sample(f);
  const r = spawnSync("editcap", [f, g], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const a = readPcapngFile(f);
  const b = readPcapngFile(g);
  assert.equal(b.truncated, false);
  assert.deepEqual(
    b.packets.map((p) => [p.interface.name, p.timestampNs, p.comments, [...p.data], p.direction]),
    a.packets.map((p) => [p.interface.name, p.timestampNs, p.comments, [...p.data], p.direction]),
  );
  assert.deepEqual(b.packets[0]!.meta, { function: "ip_rcv", packet_id: "0xffff888800001000" });
});

test("an ipft trace file (format 3): tshark filters on its comments, capinfos finds no error, editcap keeps ipft's options", {
  skip,
}, () => {
  const f = join(dir, "ipft-trace.pcapng");
  const g = join(dir, "ipft-trace-editcap.pcapng");
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock: new MonotonicClock({ offsetNs: 1_700_000_000_000_000_000n, uncertaintyNs: 0n }),
    userappl: "ipft test",
    tracer: "function",
  });
  const names = new Map([
    [0xffffffff81000010n, "ip_rcv"],
    [0xffffffff81000020n, "kfree_skb"],
  ]);
  const symbolizer = { resolve: (a: bigint) => ({ module: "vmlinux", name: names.get(a) ?? "x" }) };
  const verdicts = { reason: () => "NO_SOCKET", location: () => "__udp4_lib_rcv+0x4bc" };
  out.start({ symbolizer, verdicts });
  const dv = new DataView(new ArrayBuffer(4 * 128));
  const ids = new PacketTracker();
  for (let i = 0; i < 4; i++) {
    const o = i * 128;
    dv.setBigUint64(o, 0xffff888800001000n + BigInt(i >> 1) * 0x100n, true);
    dv.setBigUint64(o + 8, 1000n + BigInt(i), true);
    dv.setBigUint64(o + 16, i % 2 ? 0xffffffff81000020n : 0xffffffff81000010n, true);
    if (i % 2) {
      dv.setUint32(o + 32, 1, true);
      dv.setUint32(o + 36, 3, true);
      dv.setBigUint64(o + 40, 0xffffffff81100000n, true);
    }
    out.write(dv, o, ids.of(dv, o));
  }
  out.finish();
  writeFileSync(f, sink.bytes());
  const all = tshark(["-r", f, "-T", "fields", "-e", "frame.comment", "-e", "frame.packet_id"]);
  assert.equal(all.status, 0, all.stderr);
  assert.equal(all.stderr, "");
  assert.deepEqual(all.lines, [
    "1 0xffff888800001000 1000 000 vmlinux ip_rcv\t1",
    `1 0xffff888800001000 1001 000 vmlinux kfree_skb dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc: ${UDP_WHY}\t1`,
    "2 0xffff888800001100 1002 000 vmlinux ip_rcv\t2",
    `2 0xffff888800001100 1003 000 vmlinux kfree_skb dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc: ${UDP_WHY}\t2`,
  ]);
  const one = tshark(["-r", f, "-Y", "frame.packet_id == 2", "-T", "fields", "-e", "frame.number"]);
  assert.deepEqual(one.lines, ["3", "4"], "one packet's journey");
  const drops = tshark([
    "-r",
    f,
    "-Y",
    'frame.comment contains "dropped (NO_SOCKET)"',
    "-T",
    "fields",
    "-e",
    "frame.number",
  ]);
  assert.deepEqual(drops.lines, ["2", "4"]);
  const exact = tshark([
    "-r",
    f,
    "-Y",
    'frame.comment matches " ip_rcv( |$)"',
    "-T",
    "fields",
    "-e",
    "frame.number",
  ]);
  assert.deepEqual(exact.lines, ["1", "3"]);
  const info = spawnSync("capinfos", [f], { encoding: "utf8" });
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /Number of packets:\s+4\b/);
  // editcap (an independent writer) keeps the custom options: --read prints the same from its copy.
  const r = spawnSync("editcap", [f, g], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const print = (path: string) => {
    const rp = replayOf(readPcapngFile(path), path);
    let s = "";
    const w = createWriter("json", {
      out: { write: (x: string) => (s += x) },
      symbolizer: rp.symbolizer,
      verdicts: rp.verdicts,
      progress: false,
    });
    replayInto(rp, w);
    w.finish();
    return s;
  };
  const ours = print(f);
  assert.equal(ours.trimEnd().split("\n").length, 4);
  assert.match(ours, /"function":"kfree_skb","is_return":false,"verdict":"drop","drop_reason":"NO_SOCKET"/);
  assert.equal(print(g), ours);
});

test("records with the device part: tshark names each frame's interface after its device, the namespace in its description", {
  skip,
}, () => {
  const f = join(dir, "ipft-devices.pcapng");
  const pkt = [...etherIpv4Udp("10.0.0.1", "10.0.0.2", 4000, 5001, 8)];
  const evs: Ev[] = [
    { skb: 1n, ts: 1n, func: IP_RCV, cpu: 0, device: { ifindex: 1, netns: 4026531840, name: "lo" } },
    {
      skb: 1n,
      ts: 2n,
      func: UDP_RCV,
      cpu: 0,
      device: { ifindex: 9, netns: 4026532001, name: "veth1" },
      packet: { bytes: pkt, wireLen: pkt.length },
    },
    { skb: 1n, ts: 3n, func: IP_RCV, cpu: 0, device: { ifindex: 1, netns: 4026531840, name: "lo" } },
  ];
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock: new MonotonicClock({ offsetNs: 1_700_000_000_000_000_000n, uncertaintyNs: 0n }),
    userappl: "ipft test",
    tracer: "function",
  }).start({ symbolizer });
  const dv = records(evs);
  const feed = numbered(out);
  for (const off of recordOffsets(evs)) feed(dv, off);
  out.finish();
  writeFileSync(f, sink.bytes());
  const r = tshark([
    "-r",
    f,
    "-T",
    "fields",
    "-e",
    "frame.interface_name",
    "-e",
    "frame.interface_description",
    "-e",
    "udp.dstport",
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.lines, [
    "lo\tnetns 4026531840 ifindex 1, ipft trace events without packet bytes\t",
    "veth1\tnetns 4026532001 ifindex 9\t5001",
    "lo\tnetns 4026531840 ifindex 1, ipft trace events without packet bytes\t",
  ]);
});
