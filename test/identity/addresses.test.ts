// Addresses printed as tcpdump (inet_ntop) prints them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipv4Text, ipv6Text, macText } from "../../src/identity/addresses.js";
import { ip6, mac, u8 } from "./packets.js";

const v6 = (s: string) => ipv6Text(u8(ip6(s)), 0);

test("IPv6 in RFC 5952's short form", () => {
  assert.equal(v6("2001:db8::1"), "2001:db8::1");
  assert.equal(v6("::1"), "::1");
  assert.equal(v6("::"), "::");
  assert.equal(v6("fe80::"), "fe80::");
  assert.equal(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "the first of two equal runs");
  assert.equal(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1", "the longest run");
  assert.equal(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "one zero group is not shortened");
  assert.equal(v6("2001:DB8:AB:CD:EF:1:2:3"), "2001:db8:ab:cd:ef:1:2:3", "lower case, no leading zeros");
  assert.equal(v6("::ffff:a00:1"), "::ffff:10.0.0.1", "mapped IPv4");
});

test("IPv4 dotted, MAC in colon-separated hex, at an offset", () => {
  assert.equal(ipv4Text(u8([9, 10, 0, 0, 255]), 1), "10.0.0.255");
  assert.equal(macText(u8([0, ...mac("0a:1b:2c:3d:4e:5f")]), 1), "0a:1b:2c:3d:4e:5f");
});
