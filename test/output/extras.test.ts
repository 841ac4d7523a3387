// Writers read a record's extras (--snaplen's packet bytes, --stack's return addresses) from the lengths
// the record gives, never assuming 128 bytes per record.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hexOf } from "../../src/output/index.js";
import type { StackNamer } from "../../src/output/types.js";
import { kernelFrames } from "../../src/record/parts/stack.js";
import { LINK_NETWORK, VERDICT_DROP } from "../../src/record/record.js";
import { type Ev, IP_RCV, run, UDP_CAUSE, UDP_LIB_RCV, UDP_RCV, UDP_WHY } from "./records.js";

const FRAMES = new Map<bigint, string>([
  [0xffffffffc0100000n, "0xffffffffc0100000"], // ipft's program: kallsyms has no name for it
  [0xffffffff81900000n, "bpf_trace_run4+0xfc"],
  [0xffffffff81a00000n, "sk_skb_reason_drop+0x90"],
  [0xffffffff81b00000n, "__udp4_lib_rcv+0x4bc"],
  [0xffffffff81c00000n, "ip_protocol_deliver_rcu+0xb3"],
]);
const stacks: StackNamer = { frame: (a) => FRAMES.get(a) ?? `0x${a.toString(16)}` };
const STACK = [...FRAMES.keys()];
const SHOWN = ["sk_skb_reason_drop+0x90", "__udp4_lib_rcv+0x4bc", "ip_protocol_deliver_rcu+0xb3"];

// An Ethernet header on lo, then the start of an IPv4 header: 19 bytes (not a multiple of 8).
const PACKET = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0x45, 0, 0, 0x80, 0x12];

const EVENTS: Ev[] = [
  { skb: 1n, ts: 10n, func: IP_RCV, cpu: 0, packet: { bytes: PACKET, wireLen: 142 } },
  { skb: 1n, ts: 20n, func: UDP_RCV, cpu: 0 },
  {
    skb: 1n,
    ts: 30n,
    func: UDP_RCV,
    cpu: 1,
    packet: { bytes: PACKET.slice(14), wireLen: 128, link: LINK_NETWORK },
    stack: STACK,
    verdict: { kind: VERDICT_DROP, reason: 3, location: UDP_LIB_RCV + 0x4bcn },
  },
  { skb: 2n, ts: 40n, func: IP_RCV, cpu: 0, stack: STACK.slice(3, 5) },
];

test("json: packet bytes in hex with their lengths and link, the stack as names; only where the record has them", () => {
  const { out } = run("json", EVENTS, { verdicts: true, stacks });
  const evs = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(evs.length, 4);
  assert.deepEqual(
    [evs[0].wire_len, evs[0].link, evs[0].cap_len, evs[0].packet],
    [142, "mac", 19, hexOf(Uint8Array.from(PACKET))],
  );
  assert.equal(evs[0].packet, "0000000000000000000000000800450000801" + "2");
  assert.equal(evs[0].stack, undefined);
  for (const k of ["wire_len", "link", "cap_len", "packet", "stack"]) assert.ok(!(k in evs[1]), k);
  assert.deepEqual([evs[2].link, evs[2].cap_len, evs[2].packet], ["network", 5, "4500008012"]);
  assert.deepEqual(evs[2].stack, SHOWN, "the tracing machinery's frames are left out");
  assert.equal(evs[2].verdict, "drop");
  assert.deepEqual(evs[3].stack, ["__udp4_lib_rcv+0x4bc", "ip_protocol_deliver_rcu+0xb3"]);
  // The base keys first, then the verdict's, then the extras, in the record's order.
  assert.deepEqual(Object.keys(evs[2]).slice(7), [
    "verdict",
    "drop_reason",
    "location",
    "explanation",
    "wire_len",
    "link",
    "cap_len",
    "packet",
    "stack",
  ]);
});

test("stream: the stack under the event's line, one `    at` frame per line; records of any length in a row", () => {
  const { out } = run("stream", EVENTS, { verdicts: true, stacks });
  assert.equal(
    out,
    [
      "1 0x1 10 000 vmlinux ip_rcv",
      "1 0x1 20 000 vmlinux udp_rcv",
      `1 0x1 30 001 vmlinux udp_rcv dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc: ${UDP_WHY}`,
      ...SHOWN.map((f) => `    at ${f}`),
      "2 0x2 40 000 vmlinux ip_rcv",
      "    at __udp4_lib_rcv+0x4bc",
      "    at ip_protocol_deliver_rcu+0xb3",
      "",
    ].join("\n"),
  );
});

test("stream with a dump(): the stack goes after the script's text", async () => {
  const { out } = run("stream", EVENTS.slice(2, 3), { stacks, dumper: { dump: () => "txt" } });
  await new Promise((r) => setImmediate(r));
  assert.equal(out, `1 0x1 30 001 vmlinux udp_rcv txt\n${SHOWN.map((f) => `    at ${f}\n`).join("")}`);
});

test("aggregate: stacks are kept aside and print under their event; other events print as before", () => {
  const { out } = run("aggregate", EVENTS, { verdicts: true, stacks });
  const lines = out.split("\n");
  const drop = lines.findIndex((l) => /^30 /.test(l));
  assert.deepEqual(lines.slice(drop + 1, drop + 6), [
    ...SHOWN.map((f) => `    at ${f}`),
    "Verdict: dropped (NO_SOCKET) at __udp4_lib_rcv+0x4bc",
    UDP_CAUSE,
  ]);
  const second = lines.findIndex((l) => /^40 /.test(l));
  assert.deepEqual(lines.slice(second + 1, second + 3), [
    "    at __udp4_lib_rcv+0x4bc",
    "    at ip_protocol_deliver_rcu+0xb3",
  ]);
  assert.ok(!/^ {4}at /.test(lines[lines.findIndex((l) => /^10 /.test(l)) + 1]!));
  assert.equal(lines.filter((l) => l.startsWith("    at ")).length, 5);
});

test("--drops holds whole records: the held events' packet bytes and stacks come out with them", () => {
  const held: Ev[] = [
    { skb: 3n, ts: 1n, func: IP_RCV, cpu: 0, packet: { bytes: PACKET, wireLen: 142 }, stack: STACK.slice(4) },
    { skb: 3n, ts: 2n, func: UDP_RCV, cpu: 0, verdict: { kind: VERDICT_DROP, reason: 3 } },
  ];
  const { out } = run("json", held, { dropsOnly: true, stacks });
  const first = JSON.parse(out.split("\n")[0]!);
  assert.equal(first.packet, hexOf(Uint8Array.from(PACKET)));
  assert.deepEqual(first.stack, ["ip_protocol_deliver_rcu+0xb3"]);
});

test("without a namer, frames print in hex; a stack of machinery frames only is printed whole", () => {
  const { out } = run("json", [{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0, stack: [0xffffffff81b00000n] }]);
  assert.deepEqual(JSON.parse(out).stack, ["0xffffffff81b00000"]);
  assert.deepEqual(kernelFrames(["0xffffffffc0100000", "bpf_trace_run2+0x1"]), [
    "0xffffffffc0100000",
    "bpf_trace_run2+0x1",
  ]);
  // A tracepoint's iterator may show between the program and the code that hit the tracepoint.
  assert.deepEqual(
    kernelFrames([
      "0xffffffffc0100000",
      "bpf_trace_run4+0xfc",
      "__traceiter_kfree_skb+0x41",
      "sk_skb_reason_drop+0x90",
    ]),
    ["sk_skb_reason_drop+0x90"],
  );
  // A JIT'd program kallsyms does not list reads as the [bpf] symbol before it.
  assert.deepEqual(
    kernelFrames(["bpf_dispatcher_xdp+0x1c6e [bpf]", "bpf_trace_run4+0xfc", "sk_skb_reason_drop+0x90"]),
    ["sk_skb_reason_drop+0x90"],
  );
  assert.deepEqual(kernelFrames(["bpf_trace_run2+0x1", "kfree_skb+0x3", "bpf_prog_x+0x1"]), [
    "kfree_skb+0x3",
    "bpf_prog_x+0x1",
  ]);
});
