// The json output: one object per line, the record's fields by name, numbers past 2^53 exact, captured
// fields appended. jq reading it is in test/host/json-jq.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { functionDumper } from "../../src/output/index.js";
import { BIG_TS, IP_RCV, LONG_FUNC, LONG_MODULE, MAX_U64, NAMING_EVS, run } from "./records.js";

const GOLDEN = [
  '{"packet_id":1,"skb":"0xffff888012345678","timestamp":2509333321124,"processor_id":1,"module":"vmlinux","function":"ip_rcv","is_return":false}',
  '{"packet_id":1,"skb":"0xffff888012345678","timestamp":2509333321200,"processor_id":1,"module":"vmlinux","function":"udp_rcv","is_return":true}',
  `{"packet_id":2,"skb":"0x10","timestamp":3,"processor_id":130,"module":"${LONG_MODULE}","function":"${LONG_FUNC}","is_return":false}`,
  '{"packet_id":3,"skb":"0x20","timestamp":4,"processor_id":2,"module":"m\\tod","function":"we\\"ird\\\\name","is_return":false}',
  '{"packet_id":4,"skb":"0x30","timestamp":5,"processor_id":3,"module":"(unknown)","function":"(unknown)","is_return":false}',
];

test("json: one object per line with ipftrace2's keys, in its order (packet_id a number, then skb)", () => {
  const { out, w } = run("json", NAMING_EVS);
  assert.equal(out, `${GOLDEN.join("\n")}\n`);
  assert.equal(w.count, 5);
  assert.deepEqual(JSON.parse(GOLDEN[3]!), {
    packet_id: 3,
    skb: "0x20",
    timestamp: 4,
    processor_id: 2,
    module: "m\tod",
    function: 'we"ird\\name',
    is_return: false,
  });
});

test("json: timestamps beyond 2^53 keep every digit", () => {
  const { out } = run("json", [
    { skb: 1n, ts: BIG_TS, func: IP_RCV, cpu: 0 },
    { skb: 1n, ts: MAX_U64, func: IP_RCV, cpu: 0 },
  ]);
  const lines = out.trim().split("\n");
  assert.match(lines[0]!, /"timestamp":1152921504606846979,/);
  assert.match(lines[1]!, /"timestamp":18446744073709551615,/);
  // JSON.parse accepts them (as rounded doubles); the digits are what a bigint-aware reader needs.
  for (const l of lines) assert.equal(JSON.parse(l).function, "ip_rcv");
});

test("json: dump() table keys join the object, typed; a string goes under data; nil adds nothing", () => {
  const dump = (d: Uint8Array) =>
    d[0] === 1 ? { len: 42, dev: 'e"th0', gso: false } : d[0] === 2 ? "free text" : undefined;
  const evs = [1, 2, 3].map((i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0, data: i }));
  const { out } = run("json", evs, { dumper: functionDumper(dump) });
  const head = (ts: number) =>
    `{"packet_id":1,"skb":"0x1","timestamp":${ts},"processor_id":0,"module":"vmlinux","function":"ip_rcv","is_return":false`;
  assert.equal(
    out,
    `${head(1)},"len":42,"dev":"e\\"th0","gso":false}\n${head(2)},"data":"free text"}\n${head(3)}}\n`,
  );
  const first = JSON.parse(out.split("\n")[0]!);
  assert.equal(first.len, 42);
  assert.equal(first.dev, 'e"th0');
});
