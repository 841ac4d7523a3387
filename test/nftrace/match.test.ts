// A drop matched with the trace event that dropped it, by the packet's IP header, once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DropMatcher, headerKey, networkHeader } from "../../src/nftrace/match.js";
import { CAPTURED } from "./captured.js";

const PING = Buffer.from("4500005403134000400139947f0000017f000001", "hex");
const UDP = CAPTURED.find((e) => e.network?.[9] === 17)!.network!;
const ether = (ip: Uint8Array, type = "0800") =>
  Buffer.concat([Buffer.from(`000000000001000000000002${type}`, "hex"), ip]);

test("the key: IPv4's id, protocol and addresses (not TTL or checksum, which forwarding changes)", () => {
  const forwarded = Buffer.from(PING);
  forwarded[8] = 63;
  forwarded[10] = 0;
  assert.equal(headerKey(forwarded), headerKey(PING));
  const otherId = Buffer.from(PING);
  otherId[5] = 0x14;
  assert.notEqual(headerKey(otherId), headerKey(PING));
  assert.equal(headerKey(Buffer.from("0806", "hex")), undefined);
  const v6 = Buffer.alloc(40);
  v6[0] = 0x60;
  v6[6] = 6;
  assert.match(headerKey(v6)!, /^6:/);
});

test("the IP header in a record's bytes: after Ethernet (and VLAN tags) or at the start", () => {
  assert.deepEqual(networkHeader(ether(PING), false), PING);
  const tagged = Buffer.concat([Buffer.from("0000000000010000000000028100000a0800", "hex"), PING]);
  assert.deepEqual(networkHeader(tagged, false), PING);
  assert.deepEqual(networkHeader(PING, true), PING);
  assert.equal(networkHeader(ether(PING, "0806"), false), undefined);
});

test("each drop takes its own packet's drop event, once; a policy drop by the header its trace id had", () => {
  const m = new DropMatcher();
  for (const e of CAPTURED) m.add(e);
  const udp = m.take(networkHeader(ether(UDP), false), false);
  assert.equal(udp?.chain, "input2", "the policy's event, matched by the header sent before it");
  const ping = m.take(networkHeader(ether(PING), false), false);
  assert.equal(ping?.handle, 3n);
  assert.equal(m.take(PING, false), undefined, "taken already");
});

test("without packet bytes: the oldest drop event only when every traced packet is selected", () => {
  const m = new DropMatcher();
  for (const e of CAPTURED) m.add(e);
  assert.equal(m.take(undefined, false), undefined);
  assert.equal(m.take(undefined, true)?.chain, "input");
  assert.equal(m.take(undefined, true)?.chain, "input2");
  assert.equal(m.take(undefined, true), undefined);
});
