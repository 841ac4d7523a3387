// The writer against the pcapng specification, checked byte by byte with a walker written here (not the
// reader): block lengths at both ends, multiples of 4, zero padding, option encoding and opt_endofopt,
// the section header's magic, timestamps split high/low; and the file sink's short writes and errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/core/errors.js";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { FdSink, MemorySink, openBlockSink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { tempDir } from "../support/temp-dir.js";
import { ipv4Udp } from "./packets.js";

interface Block {
  type: number;
  offset: number;
  total: number;
  body: Uint8Array;
}

/** Splits a little-endian file into blocks, asserting the framing rules as it goes. */
function walk(bytes: Uint8Array): Block[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Block[] = [];
  let off = 0;
  while (off < bytes.length) {
    const type = dv.getUint32(off, true);
    const total = dv.getUint32(off + 4, true);
    assert.equal(total % 4, 0, `block at ${off}: length ${total} is a multiple of 4`);
    assert.ok(total >= 12 && off + total <= bytes.length, `block at ${off}: length ${total} fits`);
    assert.equal(dv.getUint32(off + total - 4, true), total, `block at ${off}: trailing length`);
    out.push({ type, offset: off, total, body: bytes.subarray(off + 8, off + total - 4) });
    off += total;
  }
  assert.equal(off, bytes.length);
  return out;
}

/** Options from `from` in a block body: [code, value] pairs, asserting padding and opt_endofopt. */
function opts(body: Uint8Array, from: number): [number, Uint8Array][] {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: [number, Uint8Array][] = [];
  let p = from;
  for (;;) {
    assert.ok(p + 4 <= body.length, "options end with opt_endofopt");
    const code = dv.getUint16(p, true);
    const len = dv.getUint16(p + 2, true);
    if (code === 0) {
      assert.equal(len, 0, "opt_endofopt has length 0");
      assert.equal(p + 4, body.length, "opt_endofopt is the last thing in the block");
      return out;
    }
    out.push([code, body.subarray(p + 4, p + 4 + len)]);
    const padded = (len + 3) & ~3;
    assert.ok(
      body.subarray(p + 4 + len, p + 4 + padded).every((b) => b === 0),
      `option ${code}: padding bytes are zero`,
    );
    p += 4 + padded;
  }
}

const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

function sample(sinkOpts: { bigEndian?: boolean } = {}) {
  const sink = new MemorySink();
  const w = new PcapngWriter(
    sink,
    { userappl: "ipft 9.9.9", os: "TestOS", hardware: "", comments: ["ipft -m 0x2a -- cmd"] },
    sinkOpts,
  );
  const raw = w.interfaceFor({ name: "lo", netns: 4026531840, linktype: LINKTYPE_RAW });
  const data = ipv4Udp("127.0.0.1", "127.0.0.1", 1, 2, 3); // 31 bytes: one byte of padding
  writePacket(w, {
    interfaceId: raw,
    timestampNs: 0x1234_5678_9abc_def0n,
    data,
    comments: ["ip_rcv", "né"],
    direction: "outbound",
    packetId: 0xffff888812345678n,
    dropCount: 2,
    custom: [{ pen: 32473, data: "k=v" }],
  });
  return { w, sink, data };
}

test("section header: type, byte-order magic, version 1.0, length -1, options", () => {
  const { sink } = sample();
  const [shb] = walk(sink.bytes());
  assert.equal(shb!.type, 0x0a0d0d0a);
  assert.deepEqual([...sink.bytes().subarray(0, 4)], [0x0a, 0x0d, 0x0d, 0x0a]);
  const dv = new DataView(shb!.body.buffer, shb!.body.byteOffset);
  assert.equal(dv.getUint32(0, true), 0x1a2b3c4d);
  assert.deepEqual([...shb!.body.subarray(0, 4)], [0x4d, 0x3c, 0x2b, 0x1a], "little endian on disk");
  assert.equal(dv.getUint16(4, true), 1);
  assert.equal(dv.getUint16(6, true), 0);
  assert.equal(dv.getBigInt64(8, true), -1n);
  const o = opts(shb!.body, 16).map(([c, v]) => [c, utf8(v)]);
  // an empty shb_hardware is left out; the comment, shb_os, shb_userappl are there
  assert.deepEqual(o, [
    [1, "ipft -m 0x2a -- cmd"],
    [3, "TestOS"],
    [4, "ipft 9.9.9"],
  ]);
});

test("interface description: link type, snaplen, if_name, if_description, if_tsresol = 9", () => {
  const { sink } = sample();
  const idb = walk(sink.bytes())[1]!;
  assert.equal(idb.type, 1);
  const dv = new DataView(idb.body.buffer, idb.body.byteOffset);
  assert.equal(dv.getUint16(0, true), 101);
  assert.equal(dv.getUint16(2, true), 0, "reserved");
  assert.equal(dv.getUint32(4, true), 0, "snaplen 0: no limit");
  const o = opts(idb.body, 8);
  assert.deepEqual(
    o.map(([c, v]) => [c, c === 9 ? [...v] : utf8(v)]),
    [
      [2, "lo"],
      [3, "lo in netns 4026531840"],
      [9, [9]],
    ],
  );
  assert.equal(o[2]![1].length, 1, "if_tsresol is one byte (padded to 4)");
});

test("enhanced packet: interface, timestamp high then low, lengths, padded data, options", () => {
  const { sink, data } = sample();
  const epb = walk(sink.bytes())[2]!;
  assert.equal(epb.type, 6);
  const dv = new DataView(epb.body.buffer, epb.body.byteOffset);
  assert.equal(dv.getUint32(0, true), 0, "interface id");
  assert.equal(dv.getUint32(4, true), 0x12345678, "timestamp high");
  assert.equal(dv.getUint32(8, true), 0x9abcdef0, "timestamp low");
  assert.equal(dv.getUint32(12, true), 31, "captured length");
  assert.equal(dv.getUint32(16, true), 31, "original length");
  assert.deepEqual([...epb.body.subarray(20, 51)], [...data]);
  assert.equal(epb.body[51], 0, "packet data padded with a zero byte to 32 bits");
  const o = opts(epb.body, 52);
  assert.deepEqual(
    o.map(([c]) => c),
    [1, 1, 2, 4, 5, 2988],
  );
  assert.equal(utf8(o[0]![1]), "ip_rcv");
  assert.equal(utf8(o[1]![1]), "né");
  assert.equal(o[1]![1].length, 3, "comments are UTF-8 (é is two bytes)");
  const v = (i: number) => new DataView(o[i]![1].buffer, o[i]![1].byteOffset, o[i]![1].length);
  assert.equal(v(2).getUint32(0, true), 2, "epb_flags: outbound");
  assert.equal(v(3).getBigUint64(0, true), 2n, "epb_dropcount");
  assert.equal(v(4).getBigUint64(0, true), 0xffff888812345678n, "epb_packetid");
  assert.equal(v(5).getUint32(0, true), 32473, "custom option: PEN first");
  assert.equal(utf8(o[5]![1].subarray(4)), "k=v");
});

test("interfaceFor: one IDB per (name, netns, linktype), ids in order of first use", () => {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "ipft" });
  const ids = [
    w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_ETHERNET }),
    w.interfaceFor({ name: "eth0", netns: 2, linktype: LINKTYPE_ETHERNET }),
    w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_RAW }),
    w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_ETHERNET }),
    w.interfaceFor({ name: "eth0", netns: 2n, linktype: LINKTYPE_ETHERNET }),
  ];
  assert.deepEqual(ids, [0, 1, 2, 0, 1]);
  assert.equal(walk(sink.bytes()).filter((b) => b.type === 1).length, 3);
});

test("snaplen cuts the captured bytes and keeps the original length", () => {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { userappl: "ipft" });
  const id = w.interfaceFor({ name: "lo", netns: 1, linktype: LINKTYPE_RAW }, { snaplen: 16 });
  writePacket(w, {
    interfaceId: id,
    timestampNs: 1n,
    data: new Uint8Array(100).fill(7),
    originalLength: 1500,
  });
  const epb = walk(sink.bytes())[2]!;
  const dv = new DataView(epb.body.buffer, epb.body.byteOffset);
  assert.equal(dv.getUint32(12, true), 16);
  assert.equal(dv.getUint32(16, true), 1500);
  assert.equal(epb.total, 8 + 20 + 16 + 4, "no options: no opt_endofopt either");
});

test("finish: one statistics block per interface, lost events as isb_ifdrop of interface 0", () => {
  const { w, sink } = sample();
  w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_ETHERNET });
  w.finish({ lostEvents: 42n, comments: ["42 events lost"] });
  w.finish({ lostEvents: 1 }); // idempotent
  const isbs = walk(sink.bytes()).filter((b) => b.type === 5);
  assert.equal(isbs.length, 2);
  const o0 = new Map(opts(isbs[0]!.body, 12));
  assert.equal(utf8(o0.get(1)!), "42 events lost");
  const u64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  const ts = (b: Uint8Array) => {
    const d = new DataView(b.buffer, b.byteOffset, 8);
    return (BigInt(d.getUint32(0, true)) << 32n) | BigInt(d.getUint32(4, true));
  };
  assert.equal(u64(o0.get(5)!), 42n, "isb_ifdrop");
  assert.equal(u64(o0.get(8)!), 1n, "isb_usrdeliv: one packet");
  assert.equal(ts(o0.get(2)!), 0x1234_5678_9abc_def0n, "isb_starttime: high then low");
  assert.equal(ts(o0.get(3)!), 0x1234_5678_9abc_def0n, "isb_endtime");
  const o1 = new Map(opts(isbs[1]!.body, 12));
  assert.equal(o1.has(5), false, "the session's lost count is written once");
  assert.equal(u64(o1.get(8)!), 0n);
});

test("an option value over 65535 bytes is refused, not written with a wrapped length", () => {
  const w = new PcapngWriter(new MemorySink(), { userappl: "ipft" });
  const id = w.interfaceFor({ name: "lo", netns: 1, linktype: LINKTYPE_RAW });
  assert.throws(
    () =>
      writePacket(w, {
        interfaceId: id,
        timestampNs: 0n,
        data: new Uint8Array(0),
        comments: ["x".repeat(70000)],
      }),
    /too long/,
  );
});

// ------------------------------------------------------------------------------------ the file sink

test("FdSink writes the rest after short writes and waits on EAGAIN", () => {
  const got: number[] = [];
  let calls = 0;
  let waits = 0;
  const sink = new FdSink(99, {
    bufferBytes: 0,
    waitWritable: () => waits++,
    writeSync: (_fd, buf, off, len) => {
      calls++;
      if (calls === 2) throw Object.assign(new Error("EAGAIN"), { code: "EAGAIN" });
      const n = Math.min(len, 3); // at most 3 bytes per call
      got.push(...buf.subarray(off, off + n));
      return n;
    },
  });
  const block = Uint8Array.from({ length: 16 }, (_, i) => i);
  sink.write(block);
  assert.deepEqual(got, [...block]);
  assert.equal(waits, 1);
  assert.equal(sink.written, 16);
});

test("FdSink gathers whole blocks only: a flush never holds part of a block", () => {
  const writes: number[] = [];
  const sink = new FdSink(99, {
    bufferBytes: 40,
    writeSync: (_f, _b, _o, len) => {
      writes.push(len);
      return len;
    },
  });
  for (let i = 0; i < 5; i++) sink.write(new Uint8Array(12)); // 3 fit in 40 bytes, then a flush
  sink.write(new Uint8Array(64)); // larger than the buffer: the 2 gathered go first, then it alone
  sink.flush();
  assert.deepEqual(writes, [36, 24, 64]);
  assert.ok(writes.every((n) => n % 12 === 0 || n === 64));
});

test("FdSink turns EPIPE and ENOSPC into one-line user errors", () => {
  for (const [code, re] of [
    ["EPIPE", /reading end was closed/],
    ["ENOSPC", /no space left on device.*last complete block/],
  ] as const) {
    const sink = new FdSink(99, {
      name: "out.pcapng",
      bufferBytes: 0,
      writeSync: () => {
        throw Object.assign(new Error(code), { code });
      },
    });
    assert.throws(
      () => sink.write(new Uint8Array(12)),
      (e) => e instanceof UserError && re.test(e.message) && e.message.includes("out.pcapng"),
    );
  }
});

test("openBlockSink: a file is created and closed, a missing directory is a user error", () => {
  const dir = tempDir("ipft-pcapng");
  const path = join(dir, "t.pcapng");
  const w = new PcapngWriter(openBlockSink(path), { userappl: "ipft" });
  w.close();
  const blocks = walk(readFileSync(path));
  // Section header, then an interface of its own and its statistics, so readers see a finished file.
  assert.deepEqual(
    blocks.map((b) => b.type),
    [0x0a0d0d0a, 1, 5],
  );
  assert.throws(
    () => openBlockSink(join(dir, "nope", "t.pcapng")),
    (e) => e instanceof UserError && /directory does not exist/.test(e.message),
  );
});
