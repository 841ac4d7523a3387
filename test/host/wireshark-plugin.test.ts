// The Wireshark plugin (wireshark/ipft.lua) run by the real tshark on trace files written by ipft's own
// -w writer from synthetic records: the drop-reason filter selects the drops, -T fields and -T json show
// the fields, and a file of format 1, a damaged option or a pipe give an expert-info note, never a Lua
// error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PacketTracker } from "../../src/output/packet/tracker.js";
import { PcapngOutput } from "../../src/output/pcapng.js";
import { MonotonicClock } from "../../src/pcapng/clock.js";
import { IPFT_KIND_EVENT, IPFT_KIND_NAMES, IPFT_PEN, LINKTYPE_RAW } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { MemorySink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import {
  type Ev,
  IP_RCV,
  namer,
  recordOffsets,
  records,
  symbolizer,
  TP,
  UDP_LIB_RCV,
  UDP_RCV,
} from "../output/records.js";
import { etherIpv4Udp } from "../pcapng/packets.js";
import { tempDir } from "../support/temp-dir.js";

const hasTshark = spawnSync("tshark", ["--version"]).status === 0;
const skip = hasTshark ? false : "tshark is not installed (apt-get install tshark)";
if (skip) console.log(`# skipping the Wireshark plugin tests: ${skip}`);
const PLUGIN = fileURLToPath(new URL("../../../wireshark/ipft.lua", import.meta.url));
const dir = tempDir("ipft-wireshark");

/** tshark with the plugin: stdout lines, stderr without the "running as root" line, and the status. */
function tshark(args: string[]) {
  const r = spawnSync("tshark", ["-X", `lua_script:${PLUGIN}`, ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    lines: r.stdout.split("\n").filter((l) => l !== ""),
    stderr: r.stderr.replace(/^Running as user "root".*\n?/m, ""),
  };
}

/** No Lua error anywhere: not on stderr, not in the dissection tree. */
function noLuaError(r: { stdout: string; stderr: string; status: number }) {
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.doesNotMatch(r.stdout, /Lua Error|lua_error|\.lua:\d+:/i);
}

const A = 0xffff888800001000n;
const B = 0xffff888800002000n;
const LO = { ifindex: 1, netns: 4026531840, name: "lo" };
const VETH = { ifindex: 9, netns: 4026532001, name: "veth1" };
const pkt = [...etherIpv4Udp("10.0.0.1", "10.0.0.2", 4000, 5001, 8)];
/** Two packets: A dropped (NO_SOCKET), B cloned from A and consumed; A's bytes on its first event. */
const EVENTS: Ev[] = [
  {
    skb: A,
    ts: 1000n,
    func: IP_RCV,
    cpu: 0,
    track: 1000n,
    device: VETH,
    packet: { bytes: pkt, wireLen: pkt.length },
  },
  { skb: A, ts: 2500n, func: UDP_RCV, cpu: 1, track: 1000n, device: LO },
  { skb: B, ts: 3000n, func: IP_RCV, cpu: 1, track: 3000n, parent: A, device: LO },
  {
    skb: A,
    ts: 4000n,
    func: TP,
    cpu: 1,
    track: 1000n,
    verdict: { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x4bcn },
    stack: [IP_RCV, UDP_RCV],
  },
  {
    skb: B,
    ts: 6000n,
    func: TP,
    cpu: 0,
    track: 3000n,
    verdict: { kind: VERDICT_CONSUME, location: UDP_LIB_RCV + 0x10n },
  },
];

const NO_SOCKET_TEXT =
  "no UDP socket is bound to the packet's destination address and port; the kernel answers with an ICMP port unreachable (rate-limited)";

function traceFile(name: string, evs: Ev[]): string {
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock: new MonotonicClock({ offsetNs: 1_700_000_000_000_000_000n, uncertaintyNs: 0n }),
    userappl: "ipft test",
    commandLine: "ipft -m 1 -w x",
    tracer: "function",
    namespaces: { text: (inode) => (inode === 4026532001 ? "router" : "root") },
  }).start({ symbolizer, verdicts: namer, stacks: { frame: (a) => symbolizer.resolve(a)!.name } });
  const dv = records(evs);
  const ids = new PacketTracker();
  for (const off of recordOffsets(evs)) out.write(dv, off, ids.of(dv, off));
  out.finish();
  const f = join(dir, name);
  writeFileSync(f, sink.bytes());
  return f;
}

const fields = (f: string, names: string[], extra: string[] = []) =>
  tshark(["-r", f, ...extra, "-T", "fields", "-E", "separator=|", ...names.flatMap((n) => ["-e", n])]);

test("-Y 'ipft.drop_reason == \"NO_SOCKET\"' selects exactly the dropped events", { skip }, () => {
  const f = traceFile("drops.pcapng", EVENTS);
  const r = fields(
    f,
    ["frame.number", "ipft.function", "ipft.verdict", "ipft.location"],
    ["-Y", 'ipft.drop_reason == "NO_SOCKET"'],
  );
  noLuaError(r);
  assert.deepEqual(r.lines, ["4|netif_receive_skb|1|__udp4_lib_rcv+0x4bc"]);
  // The drop's explanation, as the file's comment for the event has it; none on the consumed event.
  const why = fields(f, ["frame.number", "ipft.explanation"], ["-Y", "ipft.verdict"]);
  assert.deepEqual(why.lines, [`4|${NO_SOCKET_TEXT}`, "5|"]);
  const consumed = fields(f, ["frame.number"], ["-Y", "ipft.verdict == 2"]);
  assert.deepEqual(consumed.lines, ["5"]);
  // Without the plugin the field does not exist: the filter is the plugin's.
  const bare = spawnSync("tshark", ["-r", f, "-Y", 'ipft.drop_reason == "NO_SOCKET"'], { encoding: "utf8" });
  assert.notEqual(bare.status, 0);
});

test("-T fields lists each event's function, module, device, namespace, packet, time since its first event", {
  skip,
}, () => {
  const f = traceFile("fields.pcapng", EVENTS);
  const r = fields(f, [
    "ipft.function",
    "ipft.module",
    "ipft.device",
    "ipft.ifindex",
    "ipft.netns",
    "ipft.netns_name",
    "ipft.skb",
    "ipft.packet_id",
    "ipft.track_id",
    "ipft.parent",
    "ipft.since_first",
    "ipft.identity",
    "ipft.explanation",
  ]);
  noLuaError(r);
  const id = "UDP 10.0.0.1:4000 > 10.0.0.2:5001";
  assert.deepEqual(r.lines, [
    `ip_rcv|vmlinux|veth1|9|4026532001|router|0xffff888800001000|1|1000||0.000000000|${id}|`,
    `udp_rcv|vmlinux|lo|1|4026531840|root|0xffff888800001000|1|1000||0.000001500|${id}|`,
    "ip_rcv|vmlinux|lo|1|4026531840|root|0xffff888800002000|2|3000|0xffff888800001000|0.000000000||",
    `netif_receive_skb|vmlinux|||||0xffff888800001000|1|1000||0.000003000|${id}|${NO_SOCKET_TEXT}`,
    "netif_receive_skb|vmlinux|||||0xffff888800002000|2|3000||0.000003000||",
  ]);
  // The stack's frames, named from the file; an event without bytes named in the Info column.
  const stack = fields(f, ["ipft.stack", "_ws.col.Info"], ["-Y", "ipft.verdict == 1"]);
  assert.deepEqual(stack.lines, ["ip_rcv,udp_rcv|vmlinux netif_receive_skb dropped (NO_SOCKET)"]);
});

test("-T json has the ipft fields", { skip }, () => {
  const f = traceFile("json.pcapng", EVENTS);
  const r = tshark(["-r", f, "-T", "json", "-j", "ipft"]);
  noLuaError(r);
  const frames = JSON.parse(r.stdout) as { _source: { layers: { ipft?: Record<string, string> } } }[];
  assert.equal(frames.length, 5);
  const drop = frames[3]!._source.layers.ipft!;
  assert.equal(drop["ipft.function"], "netif_receive_skb");
  assert.equal(drop["ipft.module"], "vmlinux");
  assert.equal(drop["ipft.verdict"], "1");
  assert.equal(drop["ipft.drop_reason"], "NO_SOCKET");
  assert.equal(drop["ipft.drop_reason_code"], "3");
  assert.equal(drop["ipft.location"], "__udp4_lib_rcv+0x4bc");
  assert.equal(drop["ipft.since_first"], "0.000003000");
  assert.equal(frames[0]!._source.layers.ipft!["ipft.device"], "veth1");
  assert.equal(frames[2]!._source.layers.ipft!["ipft.parent"], "0xffff888800001000");
});

/** A file as ipft's writer lays it out, with the section comment and the options given. */
function handMade(name: string, meta: string, custom: { kind: number; data: Uint8Array }[]): string {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "ipft test", comments: ["ipft -m 1 -w x", `ipft:${meta}`] });
  const iface = w.interfaceFor({ name: "ipft", netns: 0, linktype: LINKTYPE_RAW });
  writePacket(w, {
    interfaceId: iface,
    timestampNs: 1_700_000_000_000_000_000n,
    data: new Uint8Array(0),
    comments: ['ipft:{"function":"ip_rcv"}'],
    custom: custom.map((c) => {
      const data = new Uint8Array(4 + c.data.length);
      new DataView(data.buffer).setUint32(0, c.kind, true);
      data.set(c.data, 4);
      return { pen: IPFT_PEN, data };
    }),
  });
  w.close();
  const f = join(dir, name);
  writeFileSync(f, sink.bytes());
  return f;
}

const notes = (f: string) => fields(f, ["frame.number", "_ws.expert.message", "ipft.function"]);

test("a file of format 1 gives an expert-info note, no fields and no Lua error", { skip }, () => {
  const f = handMade("format1.pcapng", '{"format":1,"tracer":"function"}', []);
  const r = notes(f);
  noLuaError(r);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0]!, /^1\|.*ipft trace file format 1; this plugin decodes formats 2 and 3.*\|$/);
});

test("a damaged event option or names option gives an expert-info note, no Lua error", { skip }, () => {
  const meta = '{"format":2,"tracer":"function"}';
  const short = handMade("short.pcapng", meta, [{ kind: IPFT_KIND_EVENT, data: new Uint8Array(20) }]);
  const r = notes(short);
  noLuaError(r);
  assert.match(
    r.lines[0]!,
    /ipft's option is damaged: the event option is 20 bytes, shorter than a record's 64\|$/,
  );
  // A stack depth of 3 in a record without the stack's 24 bytes.
  const head = new Uint8Array(64);
  head[55] = 3;
  const cut = notes(handMade("cut.pcapng", meta, [{ kind: IPFT_KIND_EVENT, data: head }]));
  noLuaError(cut);
  assert.match(cut.lines[0]!, /too short for its device part and 3 stack frames\|$/);
  const names = notes(
    handMade("names.pcapng", meta, [
      { kind: IPFT_KIND_NAMES, data: new TextEncoder().encode('{"functions":[["0x1",') },
      { kind: IPFT_KIND_EVENT, data: new Uint8Array(64) },
    ]),
  );
  noLuaError(names);
  assert.match(names.lines[0]!, /the names option is not the JSON ipft writes\|$/);
});

test("through a pipe (-r -) tshark reads every frame as without the plugin, each with a note", {
  skip,
}, () => {
  // More than the ~128 KiB tshark can rewind a pipe by: the plugin must not read ahead.
  const many: Ev[] = Array.from({ length: 3000 }, (_, i) => ({
    skb: A + BigInt(i),
    ts: BigInt(1000 + i),
    func: IP_RCV,
    cpu: 0,
    device: LO,
  }));
  const f = traceFile("pipe.pcapng", many);
  assert.ok(statSync(f).size > 256 * 1024, `${statSync(f).size} bytes`);
  const p = spawnSync(
    "sh",
    [
      "-c",
      `cat "${f}" | tshark -X "lua_script:${PLUGIN}" -r - -T fields -e _ws.expert.message -e ipft.function`,
    ],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const r = {
    status: p.status ?? -1,
    stdout: p.stdout,
    stderr: p.stderr.replace(/^Running as user "root".*\n?/m, ""),
    lines: p.stdout.split("\n").filter(Boolean),
  };
  noLuaError(r);
  assert.equal(r.lines.length, 3000);
  assert.match(r.lines[0]!, /ipft's options are read from a file, not from a pipe/);
  // The same file by name: every event decoded.
  const named = fields(f, ["ipft.function"]);
  assert.equal(named.lines.length, 3000);
  assert.ok(named.lines.every((l) => l === "ip_rcv"));
});

test("a capture that is not ipft's is left alone", { skip }, () => {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "other" });
  const iface = w.interfaceFor({ name: "eth0", netns: 0, linktype: LINKTYPE_RAW });
  writePacket(w, {
    interfaceId: iface,
    timestampNs: 1n,
    data: new Uint8Array(etherIpv4Udp("1.1.1.1", "2.2.2.2", 1, 2, 4).subarray(14)),
  });
  w.close();
  const f = join(dir, "other.pcapng");
  writeFileSync(f, sink.bytes());
  const r = fields(f, ["ip.src", "ipft.function", "_ws.expert.message"]);
  noLuaError(r);
  assert.deepEqual(r.lines, ["1.1.1.1||"]);
});
