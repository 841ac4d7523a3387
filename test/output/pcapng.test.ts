// -w and --read without a kernel: synthetic records written by the pcapng writer, parsed back, and printed
// by the same writers: the output equals what the records printed directly, in every format, with verdicts,
// a script's dump() text, timestamps beyond 2^53, function_graph; lost events, packet bytes, write failures.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createWriter,
  functionDumper,
  numbered,
  type OutputName,
  PacketTracker,
  teeWriter,
} from "../../src/output/index.js";
import { packetOf } from "../../src/output/packet-of.js";
import { FILE_FORMAT, type FileNames, PcapngOutput, PcapngOutputError } from "../../src/output/pcapng.js";
import { NotAnIpftTrace, replayInto, replayOf } from "../../src/output/pcapng-replay.js";
import { StreamLines } from "../../src/output/stream.js";
import { StreamLineBytes } from "../../src/output/stream-bytes.js";
import type { Symbolizer } from "../../src/output/types.js";
import { VerdictText } from "../../src/output/verdict-text.js";
import { BlockBuilder } from "../../src/pcapng/block-builder.js";
import { MonotonicClock } from "../../src/pcapng/clock.js";
import {
  IPFT_KIND_EVENT,
  IPFT_KIND_NAMES,
  IPFT_PEN,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_WIRESHARK_UPPER_PDU,
  OPT_CUSTOM_BIN,
} from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { parsePcapng } from "../../src/pcapng/reader.js";
import { type BlockSink, MemorySink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { IDENTITY_SIZE } from "../../src/record/parts/identity.js";
import { packetBytes, readDevice, recordLength, stackAddrs } from "../../src/record/parts/index.js";
import {
  OFF_DATA,
  RECORD_SIZE,
  readCpu,
  readFlags,
  readFunc,
  readLink,
  readLocation,
  readReason,
  readSkb,
  readTimestamp,
  readTrack,
  readVerdict,
  readWireLen,
  VERDICT_CONSUME,
  VERDICT_DROP,
} from "../../src/record/record.js";
import {
  BIG_TS,
  COPY_TP,
  type Ev,
  IP_RCV,
  LONG,
  MAX_U64,
  namer,
  type RunOptions,
  recordOffsets,
  records,
  run,
  symbolizer,
  TP,
  UDP_LIB_RCV,
  UDP_RCV,
  WEIRD,
} from "./records.js";

const A = 0xffff888100001000n;
const B = 0xffff888100002000n;
const EVENTS: Ev[] = [
  { skb: A, ts: 100n, func: IP_RCV, cpu: 0, data: 1 },
  { skb: B, ts: 105n, func: WEIRD, cpu: 1, data: 2 },
  { skb: A, ts: 110n, func: UDP_RCV, cpu: 12, data: 3 },
  {
    skb: A,
    ts: 120n,
    func: TP,
    cpu: 0,
    data: 4,
    verdict: { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x4bcn },
  },
  { skb: B, ts: BIG_TS, func: LONG, cpu: 1, data: 5 },
  {
    skb: B,
    ts: BIG_TS + 7n,
    func: 0x1234n,
    cpu: 1,
    data: 6,
    verdict: { kind: VERDICT_CONSUME, location: 0n },
  },
  {
    skb: A,
    ts: BIG_TS + 9n,
    func: TP,
    cpu: 0,
    data: 7,
    verdict: { kind: VERDICT_DROP, reason: 77, location: 0n },
  },
];

const clock = new MonotonicClock({ offsetNs: 1_700_000_000_000_000_000n, uncertaintyNs: 0n });

/** The events through -w into memory: the file's bytes. */
function writeFile(evs: Ev[], o: RunOptions & { tracer?: string; lostAfter?: number[] } = {}): Uint8Array {
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock,
    userappl: "ipft test",
    commandLine: "ipft -m 1 -w x",
    tracer: o.tracer ?? "function",
  });
  out.start({ symbolizer, verdicts: namer, ...(o.dumper ? { dumper: o.dumper } : {}) });
  const dv = records(evs, 24);
  const at = recordOffsets(evs, 24);
  const ids = new PacketTracker();
  evs.forEach((_, i) => {
    out.write(dv, at[i]!, ids.of(dv, at[i]!));
    if (o.lostAfter?.[i] !== undefined) out.drained(o.lostAfter[i]);
  });
  out.finish();
  return sink.bytes();
}

/** --read of those bytes in one format. */
function readBack(bytes: Uint8Array, kind: OutputName, dropsOnly = false) {
  const r = replayOf(parsePcapng(bytes, "t.pcapng"), "t.pcapng");
  let out = "";
  let err = "";
  const w = createWriter(kind, {
    layout: "ipftrace2",
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    symbolizer: r.symbolizer,
    verdicts: r.verdicts,
    progress: false,
    graph: r.tracer === "function_graph",
    dropsOnly,
    ...(r.dumper ? { dumper: r.dumper } : {}),
  });
  replayInto(r, w);
  w.finish();
  return { out, summary: w.summary(), err };
}

const dumper = functionDumper((d) => (d[0] === 3 ? "plain text" : { n: d[0]!, big: 2 ** 60, s: 'q"uote' }));

for (const kind of ["aggregate", "stream", "json"] as const) {
  test(`--read prints what ${kind} printed from the records, byte for byte, summary included`, () => {
    for (const o of [{}, { dumper }] as RunOptions[]) {
      const live = run(kind, EVENTS, { ...o, verdicts: true });
      const back = readBack(writeFile(EVENTS, o), kind);
      assert.equal(back.out, live.out, o.dumper ? "with dump()" : "without dump()");
      assert.deepEqual(back.summary, live.w.summary());
    }
  });
}

test("--read says delivered where the live trace did (a packet last seen copying its data to user space)", () => {
  const evs: Ev[] = [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 2n, func: COPY_TP, cpu: 0 },
  ];
  for (const kind of ["aggregate", "stream", "json"] as const) {
    const live = run(kind, evs, { verdicts: true });
    const back = readBack(writeFile(evs), kind);
    assert.match(back.out, /delivered/, kind);
    assert.equal(back.out, live.out, kind);
    assert.deepEqual(back.summary, live.w.summary(), kind);
  }
  assert.match(readBack(writeFile(evs), "aggregate").summary[0]!, /1 delivered, 0 without a verdict$/);
});

test("--read of a function_graph trace indents as the live aggregate did; --drops applies on reading", () => {
  const evs: Ev[] = [
    { skb: A, ts: 1n, func: IP_RCV, cpu: 0 },
    { skb: A, ts: 2n, func: UDP_RCV, cpu: 0 },
    { skb: A, ts: 3n, func: UDP_RCV, cpu: 0, ret: true },
    { skb: A, ts: 4n, func: IP_RCV, cpu: 0, ret: true },
  ];
  assert.equal(
    readBack(writeFile(evs, { tracer: "function_graph" }), "aggregate").out,
    run("aggregate", evs, { graph: true, verdicts: true }).out,
  );
  const drops = readBack(writeFile(EVENTS), "stream", true);
  assert.equal(drops.out, run("stream", EVENTS, { dropsOnly: true }).out);
});

test("each event's block: the stream line as its comment, the record in ipft's option, names once", () => {
  const c = parsePcapng(writeFile(EVENTS, { dumper }));
  assert.equal(c.packets.length, EVENTS.length);
  const stream = run("stream", EVENTS, { dumper, verdicts: true }).out.trimEnd().split("\n");
  const dv = records(EVENTS, 24);
  const at = recordOffsets(EVENTS, 24);
  const seen = new Set<string>();
  c.packets.forEach((p, i) => {
    assert.deepEqual(p.comments, [stream[i]], "one comment: the stream line, dump text included");
    // The packet id, the stream line's first word (not the skb's address, which the kernel reuses).
    assert.equal(p.packetId, BigInt(stream[i]!.split(" ")[0]!));
    assert.equal(p.timestampNs, EVENTS[i]!.ts + clock.offset.offsetNs);
    assert.equal(p.interface.linktype, LINKTYPE_WIRESHARK_UPPER_PDU);
    assert.deepEqual([...p.data], [0, 0, 0, 0], "an empty Exported PDU");
    const ours = p.custom.filter((o) => o.pen === IPFT_PEN);
    assert.ok(ours.every((o) => o.code === OPT_CUSTOM_BIN));
    const kind = (o: { data: Uint8Array }) =>
      new DataView(o.data.buffer, o.data.byteOffset).getUint32(0, true);
    const event = ours.filter((o) => kind(o) === IPFT_KIND_EVENT);
    assert.equal(event.length, 1);
    // The record's first 64 bytes as written (not the module's data), then the dump text's length and
    // text, then its json keys.
    const rec = event[0]!.data.subarray(4);
    assert.deepEqual([...rec.subarray(0, 64)], [...new Uint8Array(dv.buffer, at[i]!, 64)]);
    const textLen = new DataView(rec.buffer, rec.byteOffset + 64).getUint32(0, true);
    const text = new TextDecoder().decode(rec.subarray(68, 68 + textLen));
    assert.ok(stream[i]!.endsWith(` ${text}`), text);
    assert.match(new TextDecoder().decode(rec.subarray(68 + textLen)), /^,"/);
    // Names: on the first event that uses a function (a verdict's reason and place), never again.
    const names = ours.filter((o) => kind(o) === IPFT_KIND_NAMES);
    const fn = `0x${EVENTS[i]!.func.toString(16)}`;
    const named = names.flatMap(
      (o) => (JSON.parse(new TextDecoder().decode(o.data.subarray(4))) as FileNames).functions ?? [],
    );
    if (symbolizer.resolve(EVENTS[i]!.func) && !seen.has(fn)) {
      const sym = symbolizer.resolve(EVENTS[i]!.func)!;
      assert.deepEqual(
        named.find((f) => f[0] === fn),
        [fn, sym.module, sym.name],
      );
    } else assert.ok(!named.some((f) => f[0] === fn), `${fn} named once`);
    seen.add(fn);
  });
  assert.equal(c.interfaces.length, 1);
  assert.equal(c.interfaces[0]!.name, "ipft");
  assert.equal(c.sections[0]!.comments[0], "ipft -m 1 -w x");
  // The format and tracer, then the machine and its clock (multi-host.md).
  assert.match(
    c.sections[0]!.comments[1]!,
    new RegExp(
      `^ipft:\\{"format":${FILE_FORMAT},"tracer":"function","host":"[^"]+","boot_id":"[^"]*","clock_offset_ns":"1700000000000000000","clock_uncertainty_ns":"0"\\}$`,
    ),
  );
});

test("--read of packet bytes, stacks, track ids: json (bytes in hex, named frames) and stream as printed live", () => {
  const frames = new Map<bigint, string>([
    [0xffffffff81200010n, "kfree_skb_reason+0x9d"],
    [0xffffffff81200020n, "__udp4_lib_rcv+0x5e1"],
  ]);
  const stacks = { frame: (a: bigint) => frames.get(a) ?? `0x${a.toString(16)}` };
  const evs: Ev[] = [
    {
      skb: A,
      ts: 1n,
      func: IP_RCV,
      cpu: 1234,
      packet: { bytes: [0x45, 0, 0, 20, 1, 2, 3], wireLen: 60, link: 1 },
    },
    {
      skb: A,
      ts: BIG_TS,
      func: UDP_RCV,
      cpu: 0,
      stack: [0xffffffff81200010n, 0xffffffff81200020n],
      track: 99n,
    },
    {
      skb: A,
      ts: BIG_TS + 1n,
      func: TP,
      cpu: 2,
      packet: { bytes: Array.from({ length: 20 }, (_, i) => i), wireLen: 20, link: 0 },
      stack: [0xffffffff81200020n, 0xffffffff81299999n],
      verdict: { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x10n },
    },
  ];
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, { clock, userappl: "t", tracer: "function" });
  out.start({ symbolizer, verdicts: namer, stacks });
  const dv = records(evs, 16);
  const feed = numbered(out);
  for (const off of recordOffsets(evs, 16)) feed(dv, off);
  out.finish();
  const r = replayOf(parsePcapng(sink.bytes()), "s.pcapng");
  for (const kind of ["json", "stream", "aggregate"] as const) {
    let back = "";
    const w = createWriter(kind, {
      layout: "ipftrace2",
      out: { write: (s: string) => (back += s) },
      symbolizer: r.symbolizer,
      verdicts: r.verdicts,
      stacks: r.stacks,
      progress: false,
    });
    replayInto(r, w);
    w.finish();
    assert.equal(back, run(kind, evs, { verdicts: true, stacks }).out, kind);
  }
});

test("the comment's bytes are the stream line for any timestamp, CPU and name", () => {
  const names = new Map<bigint, { name: string; module: string }>([
    [1n, { name: "fünf_é", module: "mod☃" }],
    [2n, { name: "ip_rcv", module: "vmlinux" }],
  ]);
  const sym: Symbolizer = { resolve: (a) => names.get(a) };
  const ts = [
    0n,
    9n,
    10n,
    99_999_999n,
    100_000_000n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 999_999n,
    BIG_TS,
    MAX_U64,
  ];
  const evs: Ev[] = ts.flatMap((t, i) => [
    { skb: BigInt(i) * 0x100n, ts: t, func: 1n, cpu: [0, 7, 99, 100, 999, 1000, 4294967295][i % 7]! },
    {
      skb: MAX_U64,
      ts: t,
      func: 2n,
      cpu: i,
      verdict: { kind: VERDICT_DROP, reason: 9, location: UDP_LIB_RCV },
    },
    { skb: 0n, ts: t, func: 3n, cpu: i, verdict: { kind: VERDICT_CONSUME, location: 0n } },
  ]);
  const lines = new StreamLines(sym, new VerdictText(namer));
  const bytes = new StreamLineBytes(lines);
  const b = new BlockBuilder(true);
  const dv = records(evs);
  const at = recordOffsets(evs);
  evs.forEach((e, i) => {
    b.pos = 0;
    bytes.write(dv, at[i]!, [1, 9, 10, 123456789, 2 ** 53 - 1][i % 5]!, b);
    assert.equal(
      Buffer.from(b.mem.subarray(0, b.pos)).toString("utf8"),
      lines.line(dv, at[i]!, [1, 9, 10, 123456789, 2 ** 53 - 1][i % 5]!),
      String(e.ts),
    );
  });
});

test("lost events: on the next block (epb_dropcount) and in the statistics (isb_ifdrop)", () => {
  const c = parsePcapng(writeFile(EVENTS.slice(0, 3), { lostAfter: [5, undefined as unknown as number, 9] }));
  assert.deepEqual(
    c.packets.map((p) => p.dropCount ?? 0n),
    [0n, 5n, 0n],
  );
  assert.equal(c.lostEvents, 9n);
});

test("packet bytes in the record: written on an Ethernet interface (or raw IP), cut to the snaplen", () => {
  const dv = new DataView(new ArrayBuffer(128 + 64));
  dv.setBigUint64(0, A, true);
  dv.setBigUint64(16, IP_RCV, true);
  dv.setUint32(48, 1500, true); // wire_len
  dv.setUint16(52, 60, true); // cap_len
  dv.setUint8(54, 0); // link: Ethernet
  for (let i = 0; i < 60; i++) dv.setUint8(128 + i, i);
  const p = packetOf(dv, 0)!;
  assert.equal(p.wireLen, 1500);
  assert.equal(p.link, "ethernet");
  assert.equal(p.data.length, 60);
  assert.equal(packetOf(new DataView(new ArrayBuffer(128)), 0), undefined, "cap_len 0: no bytes");
  dv.setUint8(54, 1);
  assert.equal(packetOf(dv, 0)!.link, "raw", "link 1: the bytes start at the network header");
  dv.setUint8(54, 0);
  dv.setUint16(52, 1000, true);
  assert.equal(packetOf(dv, 0), undefined, "a cap_len past the record's end is not trusted");
  dv.setUint16(52, 60, true);
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, { clock, userappl: "t", tracer: "function", snaplen: 32 }).start({
    symbolizer,
  });
  out.write(dv, 0, 1);
  out.finish();
  const c = parsePcapng(sink.bytes());
  assert.equal(c.packets[0]!.interface.linktype, LINKTYPE_ETHERNET);
  assert.equal(c.packets[0]!.capturedLength, 32);
  assert.equal(c.packets[0]!.originalLength, 1500);
  assert.deepEqual([...c.packets[0]!.data.subarray(0, 4)], [0, 1, 2, 3]);
});

test("a failed write: kept, reported once, later events are not written; the tee still feeds the text writer", () => {
  let calls = 0;
  let failAfter = 1; // the section header goes through
  const sink: BlockSink = {
    write: () => {
      if (calls++ >= failAfter)
        throw new PcapngOutputError("pcapng output x: no space left on device (ENOSPC)");
    },
    flush: () => {},
    close: () => {},
  };
  const errors: string[] = [];
  const file = new PcapngOutput(sink, { clock, userappl: "t", tracer: "function" }).start({
    symbolizer,
    onError: (e) => errors.push(e.message),
  });
  let text = "";
  const w = teeWriter(
    createWriter("stream", { out: { write: (s: string) => (text += s) }, symbolizer, layout: "ipftrace2" }),
    file,
  );
  const dv = records(EVENTS);
  recordOffsets(EVENTS).forEach((at, i) => {
    w.write(dv, at, i + 1);
  });
  w.finish();
  assert.deepEqual(errors, ["pcapng output x: no space left on device (ENOSPC)"]);
  assert.ok(file.error instanceof PcapngOutputError);
  assert.equal(text.trimEnd().split("\n").length, EVENTS.length);
  assert.equal(calls, 2, "nothing written after the failure");
  failAfter = 0;
  calls = 0;
  assert.throws(
    () => new PcapngOutput(sink, { clock, userappl: "t", tracer: "function" }),
    /no space left/,
    "an output that takes no write fails when opened",
  );
});

test("--read refuses files ipft did not write, and events it cannot read back, in one line", () => {
  const other = new MemorySink();
  const w = new PcapngWriter(other, { userappl: "tcpdump" });
  writePacket(w, {
    interfaceId: w.interfaceFor({ name: "eth0", netns: 0, linktype: 1 }),
    timestampNs: 1n,
    data: new Uint8Array(20),
  });
  w.close();
  assert.throws(
    () => replayOf(parsePcapng(other.bytes()), "x.pcapng"),
    (e: Error) => e instanceof NotAnIpftTrace && /^x\.pcapng was not written by ipft -w/.test(e.message),
  );
  // An ipft section whose event option was cut short (edited, or another tool's).
  const edited = new MemorySink();
  const e = new PcapngWriter(edited, {
    userappl: "ipft",
    comments: [`ipft:{"format":${FILE_FORMAT},"tracer":"function"}`],
  });
  const short = new Uint8Array(4 + 100);
  short[0] = IPFT_KIND_EVENT;
  writePacket(e, {
    interfaceId: e.interfaceFor({ name: "ipft", netns: 0, linktype: 252 }),
    timestampNs: 1n,
    data: new Uint8Array(4),
    comments: ["x"],
    custom: [{ pen: IPFT_PEN, data: short }],
  });
  e.close();
  assert.throws(
    () => replayOf(parsePcapng(edited.bytes()), "y.pcapng"),
    /^NotAnIpftTrace: y\.pcapng: the ipft event option of the packet at byte \d+ is not what ipft writes/,
  );
  const newer = new MemorySink();
  new PcapngWriter(newer, { userappl: "ipft", comments: ['ipft:{"format":99,"tracer":"function"}'] }).close();
  assert.throws(() => replayOf(parsePcapng(newer.bytes()), "z.pcapng"), /written by a newer ipft/);
});

test('--read refuses a file of the first format (an "ipft:" JSON comment per event) in one line', () => {
  const old = new MemorySink();
  const w = new PcapngWriter(old, {
    userappl: "ipft 0.1.0",
    comments: ['ipft:{"format":1,"tracer":"function"}'],
  });
  writePacket(w, {
    interfaceId: w.interfaceFor({ name: "ipft", netns: 0, linktype: 252 }),
    timestampNs: 1n,
    data: new Uint8Array(4),
    comments: ["0x1 1 000 vmlinux ip_rcv", 'ipft:{"packet_id":"0x1","timestamp":1}'],
  });
  w.close();
  assert.throws(
    () => replayOf(parsePcapng(old.bytes()), "old.pcapng"),
    (e: Error) =>
      e instanceof NotAnIpftTrace &&
      !e.message.includes("\n") &&
      e.message ===
        `old.pcapng was written by an older ipft (trace file format 1; this ipft reads formats 2 and 3): read it with the ipft that wrote it (Wireshark and tshark open it as it is)`,
  );
});

/** Events of three devices (two of one name in two namespaces), one without a device, and one without
 * the device part, with and without packet bytes. */
const LO = { ifindex: 1, netns: 4026531840, name: "lo" };
const VETH_A = { ifindex: 5, netns: 4026531840, name: "veth0" };
const VETH_B = { ifindex: 2, netns: 4026532999, name: "veth0" };
const NO_DEV = { ifindex: 0, netns: 4026532999, name: "" };
const ETH = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0x45, 0];
const DEVICE_EVENTS: Ev[] = [
  { skb: A, ts: 1n, func: IP_RCV, cpu: 0, device: LO, packet: { bytes: ETH, wireLen: 60 } },
  { skb: A, ts: 2n, func: UDP_RCV, cpu: 0, device: LO, packet: { bytes: ETH, wireLen: 60 } },
  { skb: B, ts: 3n, func: IP_RCV, cpu: 1, device: VETH_A, packet: { bytes: ETH, wireLen: 60 } },
  { skb: B, ts: 4n, func: IP_RCV, cpu: 1, device: VETH_B, packet: { bytes: ETH, wireLen: 60 } },
  { skb: B, ts: 5n, func: UDP_RCV, cpu: 1, device: VETH_B, stack: [0xffffffff81000010n] },
  {
    skb: A,
    ts: 6n,
    func: TP,
    cpu: 0,
    device: NO_DEV,
    packet: { bytes: [0x45, 0, 0, 20], wireLen: 20, link: 1 },
  },
  { skb: A, ts: 7n, func: TP, cpu: 0 },
  { skb: B, ts: 8n, func: UDP_RCV, cpu: 1, device: VETH_A, packet: { bytes: ETH, wireLen: 60 } },
];

function deviceFile(namespaces?: { text(inode: number): string }): Uint8Array {
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock,
    userappl: "t",
    tracer: "function",
    ...(namespaces ? { namespaces } : {}),
  });
  out.start({ symbolizer, verdicts: namer });
  const dv = records(DEVICE_EVENTS, 8);
  const feed = numbered(out);
  for (const off of recordOffsets(DEVICE_EVENTS, 8)) feed(dv, off);
  out.finish();
  return sink.bytes();
}

test("the device part: one interface per (device, namespace, link type), named after the device; EPBs point to theirs", () => {
  const c = parsePcapng(deviceFile());
  const ifaces = c.interfaces.map((i) => [i.name, i.description, i.linktype]);
  assert.deepEqual(ifaces, [
    ["lo", "netns 4026531840 ifindex 1", LINKTYPE_ETHERNET],
    ["veth0", "netns 4026531840 ifindex 5", LINKTYPE_ETHERNET],
    ["veth0", "netns 4026532999 ifindex 2", LINKTYPE_ETHERNET],
    [
      "veth0",
      "netns 4026532999 ifindex 2, ipft trace events without packet bytes",
      LINKTYPE_WIRESHARK_UPPER_PDU,
    ],
    ["ipft", "netns 4026532999 (no device)", LINKTYPE_RAW],
    [
      "ipft",
      "ipft trace events without packet bytes (the device is not recorded)",
      LINKTYPE_WIRESHARK_UPPER_PDU,
    ],
  ]);
  assert.deepEqual(
    c.packets.map((p) => p.interface.id),
    [0, 0, 1, 2, 3, 4, 5, 1],
  );
  // With the namespaces named (live: as ip netns, a process or "root" name them), quoted after the inode.
  const named = parsePcapng(deviceFile({ text: (i) => (i === 4026531840 ? "root" : 'my "ns"') }));
  assert.deepEqual(named.interfaces.map((i) => i.description).slice(0, 5), [
    'netns 4026531840 "root" ifindex 1',
    'netns 4026531840 "root" ifindex 5',
    'netns 4026532999 "my \\"ns\\"" ifindex 2',
    'netns 4026532999 "my \\"ns\\"" ifindex 2, ipft trace events without packet bytes',
    'netns 4026532999 "my \\"ns\\"" (no device)',
  ]);
});

test("--read of records with the device part: json has ifname, ifindex and netns, as printed live", () => {
  const r = replayOf(parsePcapng(deviceFile()), "d.pcapng");
  for (const kind of ["json", "stream"] as const) {
    let back = "";
    const w = createWriter(kind, {
      layout: "ipftrace2",
      out: { write: (s: string) => (back += s) },
      symbolizer: r.symbolizer,
      verdicts: r.verdicts,
      stacks: r.stacks,
      progress: false,
    });
    replayInto(r, w);
    w.finish();
    assert.equal(back, run(kind, DEVICE_EVENTS, { verdicts: true }).out, kind);
  }
  const lines = run("json", DEVICE_EVENTS, { verdicts: true })
    .out.split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.ifname, l.ifindex, l.netns]),
    [
      ["lo", 1, 4026531840],
      ["lo", 1, 4026531840],
      ["veth0", 5, 4026531840],
      ["veth0", 2, 4026532999],
      ["veth0", 2, 4026532999],
      ["", 0, 4026532999],
      [undefined, undefined, undefined],
      ["veth0", 5, 4026531840],
    ],
  );
  // The packet bytes and the stack are read past the device part.
  assert.equal(lines[0].packet, Buffer.from(ETH).toString("hex"));
  assert.equal(lines[4].stack.length, 1);
});

test("--read gives back each event's values as the kernel wrote them: addresses, reason, location, parts", () => {
  const evs: Ev[] = [
    ...EVENTS,
    ...DEVICE_EVENTS,
    { skb: A, ts: 9n, func: TP, cpu: 1, stack: [0xffffffff81000020n, 0x1234n], track: 77n, parent: B },
  ];
  const r = replayOf(parsePcapng(writeFile(evs)), "t.pcapng");
  const back = new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
  const live = records(evs, 24);
  const values = (dv: DataView, off: number) => [
    readSkb(dv, off),
    readTimestamp(dv, off),
    readFunc(dv, off),
    readCpu(dv, off),
    readFlags(dv, off),
    readVerdict(dv, off),
    readReason(dv, off),
    readLocation(dv, off),
    readTrack(dv, off),
    readWireLen(dv, off),
    readLink(dv, off),
    [...packetBytes(dv, off)],
    stackAddrs(dv, off),
    readDevice(dv, off),
    recordLength(dv, off),
  ];
  assert.equal(r.offsets.length, evs.length);
  recordOffsets(evs, 24).forEach((off, i) => {
    assert.deepEqual(values(back, r.offsets[i]!), values(live, off), `event ${i}`);
  });
  // Names come from the file, through the same interfaces a live run names them by.
  assert.deepEqual(r.symbolizer.resolve(IP_RCV), symbolizer.resolve(IP_RCV));
  assert.equal(r.verdicts.reason(3), namer.reason(3));
  assert.equal(r.verdicts.location(UDP_LIB_RCV + 0x4bcn), namer.location(UDP_LIB_RCV + 0x4bcn));
});

test("-w keeps of an identity part only what the event filled: zeros where the ring held older bytes", () => {
  const identity = { bytes: [0x45, 0, 0, 20, 1, 2, 3, 4], device: { ifindex: 3, netns: 7, name: "veth0" } };
  const evs: Ev[] = [
    { skb: A, ts: 10n, func: 0xffffffff81000100n, cpu: 0, identity },
    { skb: A, ts: 11n, func: 0xffffffff81000100n, cpu: 0, identity },
  ];
  const dv = records(evs, 24);
  const at = recordOffsets(evs, 24);
  // The second event has the part's room only (taken byte 0) over what an earlier record left there.
  const second = at[1]! + RECORD_SIZE;
  dv.setUint8(second + 3, 0);
  for (let k = 8; k < IDENTITY_SIZE; k++) dv.setUint8(second + k, 0xee);
  // The first's bytes past the 8 it took: older bytes too.
  for (let k = 40 + 8; k < IDENTITY_SIZE; k++) dv.setUint8(at[0]! + RECORD_SIZE + k, 0xee);
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock,
    userappl: "ipft test",
    commandLine: "ipft -w x",
    tracer: "function",
  });
  out.start({ symbolizer, verdicts: namer });
  const ids = new PacketTracker();
  for (let i = 0; i < evs.length; i++) out.write(dv, at[i]!, ids.of(dv, at[i]!));
  out.finish();
  const parts = parsePcapng(sink.bytes()).packets.map((p) => {
    const ev = p.custom.find(
      (o) =>
        o.pen === IPFT_PEN &&
        new DataView(o.data.buffer, o.data.byteOffset).getUint32(0, true) === IPFT_KIND_EVENT,
    )!;
    // After the kind word, the record's first 64 bytes, then the option parts (the identity's only).
    return ev.data.subarray(4 + OFF_DATA, 4 + OFF_DATA + IDENTITY_SIZE);
  });
  assert.deepEqual([...parts[0]!.subarray(40, 48)], identity.bytes);
  assert.ok(
    parts[0]!.subarray(48).every((b) => b === 0),
    "the bytes past those taken are zero",
  );
  assert.equal(parts[1]![3], 0);
  assert.ok(
    parts[1]!.subarray(8).every((b) => b === 0),
    "a part not taken is its header and zeros",
  );
});

test("--read explains a drop with what the live run learned outside its record (--nft-trace's rule)", () => {
  const detail = {
    why: {
      cause: "NFT_RULE",
      failure: true,
      text: "an nftables rule dropped it",
      facts: [{ name: "handle", value: "7" }],
    },
    place: "nft rule inet filter forward handle 7",
  };
  // The live run's details: the first drop (timestamp 120) only.
  const details = { get: (hi: number, lo: number) => (hi === 0 && lo === 120 ? detail : undefined) };
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, { clock, userappl: "ipft test", tracer: "function" });
  out.start({ symbolizer, verdicts: namer, dropDetails: details });
  const dv = records(EVENTS, 24);
  const at = recordOffsets(EVENTS, 24);
  const ids = new PacketTracker();
  EVENTS.forEach((_, i) => {
    out.write(dv, at[i]!, ids.of(dv, at[i]!));
  });
  out.finish();
  const r = replayOf(parsePcapng(sink.bytes(), "t.pcapng"), "t.pcapng");
  assert.deepEqual(r.dropDetails.get(0, 120), detail);
  assert.equal(r.dropDetails.get(0, 121), undefined);
  let json = "";
  const w = createWriter("json", {
    out: { write: (s: string) => (json += s) },
    err: { write: () => {} },
    symbolizer: r.symbolizer,
    verdicts: r.verdicts,
    dropDetails: r.dropDetails,
    progress: false,
  });
  replayInto(r, w);
  w.finish();
  const drops = json
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { verdict?: string; explanation?: { cause: string } })
    .filter((e) => e.verdict === "drop");
  assert.equal(drops.length, 2);
  assert.equal(drops[0]!.explanation?.cause, "NFT_RULE");
  assert.notEqual(drops[1]!.explanation?.cause, "NFT_RULE", "the other drop keeps its reason's explanation");
  assert.ok(
    w.summary().some((l) => l.includes("nft rule inet filter forward handle 7 (1)")),
    w.summary().join("\n"),
  );
});
