// --snaplen and --stack on real traffic: the packet's bytes as the kernel holds them (from the Ethernet
// header on lo, from the IP header before the device layer set a mac header), and kernel stacks at the drop
// or at every event.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import {
  hostOnlySkipReason,
  ipft,
  jsonLines,
  kernelSkipReason,
  onePassSkipReason,
  SENDER,
  senderArgs,
} from "../support/run.js";

const skip = kernelSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const TP = BACKEND === "tracepoint";
// Where a locally sent packet is seen with its Ethernet header in place (the device layer reset the mac
// header), and where it is seen on receive (the header pulled: skb->data is past it).
const TX = TP ? "net_dev_queue" : "dev_hard_start_xmit";
const RX = TP ? "netif_receive_skb" : "ip_rcv";
const SELECT = TP ? ["-b", BACKEND] : ["-b", BACKEND, "-r", `^(${TX}|${RX}|__udp4_lib_rcv)$`];

type Event = Record<string, unknown>;

function json(stdout: string): Event[] {
  return jsonLines<Event>(stdout);
}

const hexBytes = (hex: unknown): Buffer => Buffer.from(String(hex), "hex");

test("--snaplen 128 on loopback UDP: the Ethernet header, the IP and UDP headers and the payload as sent", {
  skip,
}, () => {
  const PORT = 9611;
  const r = ipft([
    ...SELECT,
    "-m",
    "0x72",
    "-o",
    "json",
    "--snaplen",
    "128",
    "--",
    ...senderArgs(0x72, ["--count", "2", "--size", "300", "--port", String(PORT)]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const evs = json(r.stdout);
  const tx = evs.filter((e) => e.function === TX);
  assert.equal(tx.length, 2, r.stdout);
  for (const e of tx) {
    assert.equal(e.link, "mac");
    assert.equal(e.cap_len, 128, "at most --snaplen bytes");
    // 14 (Ethernet) + 20 (IP) + 8 (UDP) + 300 (payload).
    assert.equal(e.wire_len, 342);
    const b = hexBytes(e.packet);
    assert.equal(b.length, 128);
    assert.deepEqual([...b.subarray(0, 12)], new Array(12).fill(0), "lo's MAC addresses are all zero");
    assert.equal(b.readUInt16BE(12), 0x0800, "ethertype IPv4");
    assert.equal(b[14]! >> 4, 4, "an IPv4 header follows");
    assert.equal(b[14 + 9], 17, "protocol UDP");
    assert.equal(b.readUInt16BE(14 + 2), 328, "IP total length");
    assert.equal(b.readUInt16BE(34 + 2), PORT, "UDP destination port");
    assert.deepEqual([...b.subarray(42)], new Array(128 - 42).fill(0x61), "the payload's 'a' bytes");
  }
  // On receive the Ethernet header was pulled (skb->data is past it): the bytes still start at it, and
  // wire_len counts it.
  const rx = evs.filter((e) => e.function === RX);
  assert.equal(rx.length, 2, r.stdout);
  for (const e of rx) {
    assert.equal(e.link, "mac");
    assert.equal(e.wire_len, 342);
    assert.equal(hexBytes(e.packet).readUInt16BE(12), 0x0800);
  }
  assert.ok(
    evs.every((e) => e.stack === undefined),
    "no stack without --stack",
  );
});

test("without --snaplen no event has packet fields", { skip: skip ?? hostOnlySkipReason() }, () => {
  const r = ipft([...SELECT, "-m", "0x73", "-o", "json", "--", ...senderArgs(0x73, ["--count", "1"])]);
  assert.equal(r.status, 0, r.stderr);
  const evs = json(r.stdout);
  assert.ok(evs.length > 0);
  for (const e of evs)
    for (const k of ["wire_len", "cap_len", "link", "packet", "stack"]) assert.ok(!(k in e), k);
});

test("--stack: the kernel stack of each drop, in the UDP receive path, under the drop's line only", {
  skip,
}, () => {
  const cmd = senderArgs(0x74, ["--count", "2", "--closed", "--port", "9612"]);
  const s = ipft([...SELECT, "-m", "0x74", "-o", "stream", "--stack", "--", ...cmd]);
  assert.equal(s.status, 0, s.stderr);
  const lines = s.stdout.split("\n").filter((l) => l);
  const drops = lines.flatMap((l, i) => (/ kfree_skb dropped /.test(l) ? [i] : []));
  assert.equal(drops.length, 2, s.stdout);
  for (const i of drops) {
    const frames: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("    at "); j++)
      frames.push(lines[j]!.slice(7));
    assert.ok(frames.length >= 3, s.stdout);
    assert.ok(
      frames.some((f) => /^(__udp4_lib_rcv|udp_rcv)\+0x[0-9a-f]+$/.test(f)),
      `the stack passes through the UDP receive code:\n${frames.join("\n")}`,
    );
    assert.doesNotMatch(
      frames[0]!,
      /^(0x|bpf_|__bpf_|__traceiter_)/,
      "the tracing machinery's frames are left out",
    );
  }
  // Only the drops have a stack: every "    at" line belongs to one.
  const atLines = lines.filter((l) => l.startsWith("    at ")).length;
  const underDrops = drops.reduce((n, i) => {
    let j = i + 1;
    while (j < lines.length && lines[j]!.startsWith("    at ")) j++;
    return n + (j - i - 1);
  }, 0);
  assert.equal(atLines, underDrops);
});

// The writers print a stack the same way whatever backend took it: the tracepoint runs prove them.
test("--stack in the aggregate and json outputs (drops), and in stream (all)", {
  skip: skip ?? onePassSkipReason(),
}, () => {
  const cmd = senderArgs(0x74, ["--count", "2", "--closed", "--port", "9612"]);
  const agg = ipft([...SELECT, "-m", "0x74", "--stack", "--", ...cmd]);
  assert.equal(agg.status, 0, agg.stderr);
  assert.match(agg.stdout, / kfree_skb\n( {4}at \S+\n)+Verdict: dropped/);
  assert.match(agg.stdout, /^ {4}at (__udp4_lib_rcv|udp_rcv)\+0x/m);

  const j = ipft([...SELECT, "-m", "0x74", "-o", "json", "--stack", "drops", "--", ...cmd]);
  assert.equal(j.status, 0, j.stderr);
  const evs = json(j.stdout);
  for (const e of evs) {
    if (e.verdict === "drop") {
      assert.ok(Array.isArray(e.stack), JSON.stringify(e));
      assert.ok((e.stack as string[]).some((f) => /^(__udp4_lib_rcv|udp_rcv)\+0x/.test(f)));
    } else assert.equal(e.stack, undefined, JSON.stringify(e));
  }
  const all = senderArgs(0x75, ["--count", "1", "--closed", "--port", "9613"]);
  const s = ipft([...SELECT, "-m", "0x75", "-o", "stream", "--stack=all", "--", ...all]);
  assert.equal(s.status, 0, s.stderr);
  const lines = s.stdout.split("\n").filter((l) => l);
  lines.forEach((l, i) => {
    if (!l.startsWith("    at ")) assert.match(lines[i + 1] ?? "", /^ {4}at /, `a stack under ${l}`);
  });
});

test("--stack all: every event has its stack", { skip }, () => {
  const cmd = senderArgs(0x75, ["--count", "1", "--closed", "--port", "9613"]);
  const j = ipft([...SELECT, "-m", "0x75", "-o", "json", "--stack", "all", "--", ...cmd]);
  assert.equal(j.status, 0, j.stderr);
  const evs = json(j.stdout);
  assert.ok(evs.length >= 3, j.stdout);
  for (const e of evs) {
    assert.ok(Array.isArray(e.stack) && e.stack.length > 0, JSON.stringify(e));
    assert.ok(
      (e.stack as string[]).some((f) => /^(__sys_sendto|udp_sendmsg)\+0x/.test(f)),
      `sent from a socket, so the stack reaches the system call: ${JSON.stringify(e.stack)}`,
    );
  }
});

describe("before the device layer (a drop in nftables' output hook)", {
  skip: skip ?? hostOnlySkipReason(),
}, () => {
  const NS = "ipftxtra";
  const PORT = 9614;
  const sh = (cmd: string[], input?: string) =>
    spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", ...(input ? { input } : {}) });
  let why: string | undefined;
  before(() => {
    sh(["ip", "netns", "del", NS]);
    const steps: [string[], string?][] = [
      [["ip", "netns", "add", NS]],
      [["ip", "-n", NS, "link", "set", "lo", "up"]],
      [
        ["ip", "netns", "exec", NS, "nft", "-f", "-"],
        `table inet ipft_out { chain out { type filter hook output priority 0; udp dport ${PORT} drop; }; }\n`,
      ],
    ];
    for (const [cmd, input] of steps) {
      const r = sh(cmd, input);
      if (r.status !== 0) {
        why = `${cmd.join(" ")}: ${r.stderr || r.error?.message}`;
        return;
      }
    }
  });
  after(() => sh(["ip", "netns", "del", NS]));

  test("no mac header yet: the bytes start at the IP header (link network)", (t) => {
    if (why) return t.skip(why);
    const send = ["ip", "netns", "exec", NS, process.execPath, SENDER, "--mark", "0x76", "--count", "1"];
    const r = ipft([
      ...SELECT,
      "-m",
      "0x76",
      "-o",
      "json",
      "--snaplen",
      "1500",
      "--stack",
      "--",
      ...send,
      "--closed",
      "--size",
      "40",
      "--port",
      String(PORT),
    ]);
    // The sender's sendto fails (EPERM: the rule dropped it), and ipft returns the command's status.
    assert.match(r.stderr, /Trace done!/, r.stderr);
    const drops = json(r.stdout).filter((e) => e.verdict === "drop");
    assert.equal(drops.length, 1, r.stdout);
    const d = drops[0]!;
    assert.equal(d.drop_reason, "NETFILTER_DROP");
    assert.equal(d.link, "network");
    const b = hexBytes(d.packet);
    assert.equal(b[0], 0x45, "an IPv4 header without options");
    // The whole packet (less than --snaplen): 20 + 8 + 40.
    assert.equal(d.wire_len, 68);
    assert.equal(d.cap_len, 68);
    assert.equal(b.readUInt16BE(2), 68);
    assert.equal(b.readUInt16BE(22), PORT);
    assert.deepEqual([...b.subarray(28)], new Array(40).fill(0x61));
    assert.ok(
      (d.stack as string[]).some((f) => /^(nf_hook_slow|__ip_local_out)\+0x/.test(f)),
      String(d.stack),
    );
  });
});
