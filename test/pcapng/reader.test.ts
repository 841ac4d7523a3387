// The reader: a round trip through the writer (both byte orders), a file cut at every byte of its last
// block, and clear errors for files that are not pcapng or are damaged before the end.
import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/core/errors.js";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { parseMeta, parsePcapng, timestampToNs } from "../../src/pcapng/reader.js";
import { MemorySink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { etherIpv4Udp, ipv4Udp } from "./packets.js";

function build(bigEndian = false): Uint8Array {
  const sink = new MemorySink();
  const w = new PcapngWriter(
    sink,
    { userappl: "ipft 0.1.0", os: "Linux", hardware: "x86_64", comments: ["ipft -m 0x2a"] },
    { bigEndian },
  );
  const eth = w.interfaceFor({ name: "eth0", netns: 4026531840, linktype: LINKTYPE_ETHERNET });
  const lo = w.interfaceFor({ name: "lo", netns: 4026531840, linktype: LINKTYPE_RAW }, { snaplen: 65535 });
  writePacket(w, {
    interfaceId: eth,
    timestampNs: 1_700_000_000_123_456_789n,
    data: etherIpv4Udp("10.0.0.1", "10.0.0.2", 1000, 53, 5),
    originalLength: 200,
    comments: ["ip_rcv"],
    meta: { function: "ip_rcv", packet_id: "0xffff888800001000", processor_id: 1, big: 2n ** 64n - 1n },
    direction: "inbound",
    packetId: 0xffff888800001000n,
    dropCount: 3n,
    custom: [
      { pen: 32473, data: "text" },
      { pen: 32473, data: Uint8Array.of(1, 2, 3), noCopy: true },
    ],
  });
  writePacket(w, {
    interfaceId: lo,
    timestampNs: 1_700_000_000_123_456_790n,
    data: ipv4Udp("127.0.0.1", "127.0.0.2", 1, 2, 0),
    comments: ["kfree_skb", "ipft: not json"],
  });
  w.customBlock(32473, Uint8Array.of(9, 9, 9, 9, 9));
  w.finish({ lostEvents: 5 });
  return sink.bytes();
}

for (const bigEndian of [false, true]) {
  test(`round trip, ${bigEndian ? "big" : "little"} endian`, () => {
    const f = parsePcapng(build(bigEndian));
    assert.equal(f.truncated, false);
    assert.equal(f.sections.length, 1);
    const s = f.sections[0]!;
    assert.equal(s.byteOrder, bigEndian ? "big" : "little");
    assert.deepEqual([s.major, s.minor, s.sectionLength], [1, 0, -1n]);
    assert.deepEqual(
      [s.userappl, s.os, s.hardware, s.comments],
      ["ipft 0.1.0", "Linux", "x86_64", ["ipft -m 0x2a"]],
    );
    assert.deepEqual(
      f.interfaces.map((i) => [i.id, i.name, i.description, i.linktype, i.snaplen, i.tsresol]),
      [
        [0, "eth0", "eth0 in netns 4026531840", 1, 0, 9],
        [1, "lo", "lo in netns 4026531840", 101, 65535, 9],
      ],
    );
    const [a, b] = f.packets;
    assert.equal(f.packets.length, 2);
    assert.equal(a!.interface.name, "eth0");
    assert.equal(a!.timestampNs, 1_700_000_000_123_456_789n);
    assert.deepEqual([a!.capturedLength, a!.originalLength], [47, 200]);
    assert.deepEqual([...a!.data], [...etherIpv4Udp("10.0.0.1", "10.0.0.2", 1000, 53, 5)]);
    assert.equal(a!.comments[0], "ip_rcv");
    assert.deepEqual(a!.meta, {
      function: "ip_rcv",
      packet_id: "0xffff888800001000",
      processor_id: 1,
      big: "18446744073709551615",
    });
    assert.deepEqual([a!.direction, a!.packetId, a!.dropCount], ["inbound", 0xffff888800001000n, 3n]);
    assert.deepEqual(
      a!.custom.map((c) => [c.code, c.pen, [...c.data]]),
      [
        [2988, 32473, [...new TextEncoder().encode("text")]],
        [19373, 32473, [1, 2, 3]],
      ],
    );
    assert.equal(b!.interface.name, "lo");
    assert.deepEqual(b!.comments, ["kfree_skb", "ipft: not json"]);
    assert.equal(b!.meta, undefined, "a comment that is not JSON stays a comment");
    assert.equal(b!.direction, undefined);
    assert.deepEqual(
      f.customBlocks.map((c) => [c.pen, [...c.data], c.copyable]),
      [[32473, [9, 9, 9, 9, 9, 0, 0, 0], true]],
    );
    assert.equal(f.statistics.length, 2);
    assert.equal(f.statistics[0]!.ifdrop, 5n);
    assert.equal(f.statistics[0]!.startNs, 1_700_000_000_123_456_789n);
    assert.equal(f.statistics[1]!.usrdeliv, 1n);
    assert.equal(f.lostEvents, 5n);
  });
}

test("a file cut anywhere inside its last block reads every block before it, truncated", () => {
  const whole = build();
  const f = parsePcapng(whole);
  const lastIsb = f.statistics.at(-1)!.offset;
  for (let cut = lastIsb + 1; cut < whole.length; cut++) {
    const r = parsePcapng(whole.subarray(0, cut));
    assert.equal(r.truncated, true, `cut at ${cut}`);
    assert.equal(r.truncatedAt!.offset, lastIsb);
    assert.equal(r.packets.length, 2);
    assert.equal(r.statistics.length, 1);
  }
  // cut inside the second packet: the first is read
  const second = f.packets[1]!.offset;
  const r = parsePcapng(whole.subarray(0, second + 30));
  assert.deepEqual(
    [r.truncated, r.packets.length, r.truncatedAt?.offset, r.truncatedAt?.have],
    [true, 1, second, 30],
  );
  // cut at a block boundary: nothing is missing
  assert.equal(parsePcapng(whole.subarray(0, lastIsb)).truncated, false);
  // cut inside the section header
  assert.deepEqual(
    [parsePcapng(whole.subarray(0, 20)).truncated, parsePcapng(whole.subarray(0, 20)).sections.length],
    [true, 0],
  );
});

function rejects(bytes: Uint8Array, re: RegExp): void {
  assert.throws(
    () => parsePcapng(bytes, "t.pcapng"),
    (e) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, re);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
}

test("garbage is refused with one clear line", () => {
  rejects(new Uint8Array(0), /t\.pcapng is empty: not a pcapng file/);
  rejects(
    new TextEncoder().encode("hello world, this is text\n"),
    /not a pcapng file: it starts with 68 65 6c 6c/,
  );
  rejects(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0), /classic pcap file.*editcap -F pcapng/);
  const whole = build();
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const f = parsePcapng(whole);
  const epb = f.packets[0]!.offset;

  let b = whole.slice();
  dv(b).setUint32(8, 0x11223344, true);
  rejects(b, /damaged: the block at byte 0 is a section header without the byte-order magic/);

  b = whole.slice();
  dv(b).setUint16(12, 2, true);
  rejects(b, /pcapng version 2\.0 .* not supported/);

  b = whole.slice();
  dv(b).setUint32(epb + 4, 13, true);
  rejects(b, new RegExp(`block at byte ${epb} has a length of 13 bytes`));

  b = whole.slice();
  dv(b).setUint32(epb + 4, dv(b).getUint32(epb + 4, true) + 4, true);
  rejects(b, new RegExp(`block at byte ${epb} says \\d+ bytes at its start and \\d+ at its end`));

  b = whole.slice();
  dv(b).setUint32(epb + 8, 7, true);
  rejects(b, /is a packet of interface 7, but its section declares 2/);

  b = whole.slice();
  dv(b).setUint32(epb + 20, 5000, true);
  rejects(b, /holds 5000 packet bytes, more than the block has/);

  b = whole.slice();
  const firstOpt = epb + 28 + 48; // 47 data bytes padded to 48
  dv(b).setUint16(firstOpt + 2, 4000, true);
  rejects(b, /has an option that runs past its end/);
});

test("timestamps in other resolutions: microseconds (default), 2^-n, if_tsoffset", () => {
  assert.equal(timestampToNs(1_500_000n, 6), 1_500_000_000n);
  assert.equal(timestampToNs(3n, 0x80 | 1), 1_500_000_000n);
  assert.equal(timestampToNs(12_345_678_912n, 10), 1_234_567_891n);
  assert.equal(timestampToNs(1n, 9, 10n), 10_000_000_001n);
});

test("parseMeta takes the first ipft: comment that is a JSON object", () => {
  assert.deepEqual(parseMeta(["x", "ipft:[1]", 'ipft:{"a":1}', 'ipft:{"a":2}']), { a: 1 });
  assert.equal(parseMeta(["ipft:{"]), undefined);
});
