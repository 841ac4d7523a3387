// Real marked packets over loopback. On loopback the receive path runs inside the transmit: netif_rx fires
// before net_dev_xmit.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { release } from "node:os";
import { test } from "node:test";
import { releaseAtLeast } from "../../src/session/unseen-counts.js";
import {
  hostOnlySkipReason,
  ipft,
  jsonLines,
  kernelSkipReason,
  senderArgs,
  settledObjects,
  stableObjects,
} from "../support/run.js";

const skip = kernelSkipReason();
const MARK = 0x2a;
// IPFT_TEST_BACKEND picks the backend (the VM tests run this file once per backend). Function backends are
// checked on functions every loopback UDP packet goes through; the tracepoint backend on tracepoints.
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const LOOPBACK_PATH =
  BACKEND === "tracepoint"
    ? ["net_dev_queue", "net_dev_start_xmit", "netif_rx", "net_dev_xmit", "netif_receive_skb"]
    : ["__dev_queue_xmit", "__netif_receive_skb", "ip_rcv", "ip_local_deliver", "udp_rcv"];
/** -b and, for function backends, a regex that keeps only the checked functions (no tracepoints). */
const SELECT =
  BACKEND === "tracepoint" ? ["-b", BACKEND] : ["-b", BACKEND, "-r", `^(${LOOPBACK_PATH.join("|")})$`];

interface JsonEvent {
  packet_id: number;
  skb: string;
  timestamp: number;
  processor_id: number;
  module: string;
  function: string;
  is_return: boolean;
}

function parseJson(stdout: string): JsonEvent[] {
  return jsonLines<JsonEvent>(stdout);
}

test("json: every marked packet and no unmarked one, each on the loopback path in time order", {
  skip,
}, () => {
  const before = stableObjects();
  const r = ipft([
    ...SELECT,
    "-v",
    "-m",
    `0x${MARK.toString(16)}`,
    "-o",
    "json",
    "--",
    ...senderArgs(MARK, ["--count", "5", "--unmarked", "2"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Trace ready!/);
  assert.match(r.stderr, /Trace done!/);
  // After detaching, the kernel's counts of runs it skipped are read where it keeps them: each program's
  // recursion misses (5.12+), each kprobe link's misses (6.7+). Nothing was missed: no "Not seen" line.
  assert.match(r.stderr, /^ipft: runs the kernel skipped: \d+ recursion misses over \d+ programs/m);
  if (BACKEND.startsWith("kprobe") && releaseAtLeast(release(), 6, 7))
    assert.match(r.stderr, /, \d+ kprobe misses over \d+ links$/m);
  assert.doesNotMatch(r.stderr, /^Not seen/m);
  const ev = parseJson(r.stdout);
  const count = (f: string) => ev.filter((e) => e.function === f).length;
  // 5 marked datagrams, 10 unmarked ones in between: only the marked are seen, once each per tracepoint.
  for (const f of LOOPBACK_PATH) assert.equal(count(f), 5, `${f} seen ${count(f)} times`);
  // Per packet, the path's first occurrences are in time order.
  const byPacket = new Map<number, JsonEvent[]>();
  for (const e of ev) byPacket.set(e.packet_id, [...(byPacket.get(e.packet_id) ?? []), e]);
  for (const [id, es] of byPacket) {
    assert.ok(Number.isInteger(id) && id > 0, String(id));
    for (const e of es) assert.match(e.skb, /^0x[0-9a-f]{16}$/);
    const sorted = [...es].sort((a, b) => a.timestamp - b.timestamp);
    const firsts = LOOPBACK_PATH.map((f) => sorted.findIndex((e) => e.function === f)).filter((i) => i >= 0);
    assert.deepEqual(
      firsts,
      [...firsts].sort((a, b) => a - b),
      `path order for ${id}`,
    );
  }
  for (const e of ev) assert.equal(e.module, "vmlinux");
  assert.equal(ev.filter((e) => e.function === "(unknown)").length, 0, "every function resolves");
  assert.deepEqual(settledObjects(before), before, "nothing left in the kernel");
});

test("json lines are valid for jq", { skip: skip ?? hostOnlySkipReason() }, () => {
  const r = ipft([...SELECT, "-m", String(MARK), "-o", "json", "--", ...senderArgs(MARK, ["--count", "2"])]);
  assert.equal(r.status, 0, r.stderr);
  const jq = spawnSync("jq", ["-c", "."], { input: r.stdout, encoding: "utf8" });
  assert.equal(jq.status, 0, jq.stderr);
  assert.equal(jq.stdout.trim().split("\n").length, r.stdout.trim().split("\n").length);
});

test("-o json -- COMMAND | jq: the command's own output goes to stderr, stdout stays JSON", {
  skip: skip ?? hostOnlySkipReason(),
}, () => {
  // ping prints to stdout; so does this echo. Both must stay out of ipft's JSON.
  const cmd = `echo "the command speaks"; ping -c 1 -m ${MARK} 127.0.0.1; "$0" "$@"`;
  const r = ipft([
    ...SELECT,
    "-m",
    String(MARK),
    "-o",
    "json",
    "--",
    "sh",
    "-c",
    cmd,
    ...senderArgs(MARK, ["--count", "1"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const jq = spawnSync("jq", ["-c", ".function"], { input: r.stdout, encoding: "utf8" });
  assert.equal(jq.status, 0, `jq: ${jq.stderr}\n${r.stdout}`);
  assert.ok(jq.stdout.split("\n").length > 2, r.stdout);
  assert.doesNotMatch(r.stdout, /the command speaks|bytes from/);
  assert.match(r.stderr, /the command speaks/);
  assert.match(r.stderr, /bytes from 127\.0\.0\.1/);
});

test("--mask selects by masked bits", { skip: skip ?? hostOnlySkipReason() }, () => {
  const sent = 0x1234;
  const hit = ipft([
    ...SELECT,
    "-m",
    "0x34",
    "--mask",
    "0xff",
    "-o",
    "json",
    "--",
    ...senderArgs(sent, ["--count", "3"]),
  ]);
  assert.equal(hit.status, 0, hit.stderr);
  assert.equal(parseJson(hit.stdout).filter((e) => e.function === LOOPBACK_PATH[0]).length, 3);
  const miss = ipft([
    ...SELECT,
    "-m",
    "0x35",
    "--mask",
    "0xff",
    "-o",
    "json",
    "--",
    ...senderArgs(sent, ["--count", "3"]),
  ]);
  assert.equal(miss.status, 0, miss.stderr);
  assert.equal(miss.stdout, "");
  assert.match(miss.stderr, /no packet with mark 0x35\/0xff was seen/);
});

test("aggregate and stream show the same events as json", { skip: skip ?? hostOnlySkipReason() }, () => {
  const args = (o: string) => [
    ...SELECT,
    "-m",
    String(MARK),
    "-o",
    o,
    "--",
    ...senderArgs(MARK, ["--count", "3"]),
  ];
  // How each run's datagrams end (consumed when the receiver read them before it exited, dropped when its
  // socket closed first: both seen on 6.1) differs between runs: the verdict tracepoints are left out.
  const path = (f: string) => f !== "consume_skb" && f !== "kfree_skb";
  const j = parseJson(ipft(args("json")).stdout)
    .map((e) => e.function)
    .filter(path)
    .sort();
  const s = ipft(args("stream"));
  assert.equal(s.status, 0, s.stderr);
  const streamFns = s.stdout
    .trim()
    .split("\n")
    .map((l) => {
      // A verdict tracepoint's line ends with the verdict ("consumed", "dropped (REASON) at PLACE"); a
      // packet's first line with its identity (`IP ... | dev@namespace`, then its mark: MARK).
      const m =
        /^\d+ 0x[0-9a-f]+ \d+ \+\S+ \d{3} vmlinux (\S+)(?: (?:consumed|dropped)\b.*| IP .* \| \S+@\S+ mark 0x2a)?$/.exec(
          l,
        );
      assert.ok(m, `stream line: ${l}`);
      return m[1]!;
    });
  assert.deepEqual(streamFns.filter(path).sort(), j);
  const a = ipft(args("aggregate"));
  assert.equal(a.status, 0, a.stderr);
  const rows = a.stdout.split("\n").filter((l) => /^\d+\s+\+\S+\s+\d{3}\s/.test(l));
  assert.deepEqual(
    rows
      .map((l) => l.trim().split(/\s+/)[4]!)
      .filter(path)
      .sort(),
    j,
  );
  assert.equal(
    a.stdout.split("\n").filter((l) => /^=== packet \d+, skb 0x[0-9a-f]+(?:, took \S+)?(?: : .*)?$/.test(l))
      .length >= 1,
    true,
  );
});

test("the traced command's exit status is ipft's", { skip: skip ?? hostOnlySkipReason() }, () => {
  const r = ipft([...SELECT, "-m", "1", "--", "sh", "-c", "exit 3"]);
  assert.equal(r.status, 3, r.stderr);
  const nf = ipft([...SELECT, "-m", "1", "--", "/nonexistent/command"]);
  assert.equal(nf.status, 127);
  assert.match(nf.stderr, /cannot run \/nonexistent\/command: command not found/);
});

test("function_graph: every function entered is also returned from, in order", {
  skip:
    skip ??
    (BACKEND !== "ftrace" ? "function_graph needs the ftrace backend (IPFT_TEST_BACKEND=ftrace)" : undefined),
}, () => {
  const r = ipft([
    "-b",
    "ftrace",
    "-t",
    "function_graph",
    "-r",
    "^(ip_rcv|udp_rcv)$",
    "-m",
    String(MARK),
    "-o",
    "json",
    "--",
    ...senderArgs(MARK, ["--count", "3"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const ev = parseJson(r.stdout);
  for (const f of ["ip_rcv", "udp_rcv"]) {
    const enters = ev.filter((e) => e.function === f && !e.is_return);
    const returns = ev.filter((e) => e.function === f && e.is_return);
    assert.equal(enters.length, 3, `${f} entered`);
    assert.equal(returns.length, 3, `${f} returned`);
  }
  // ip_rcv calls (eventually) udp_rcv: enter ip_rcv < enter udp_rcv < return udp_rcv < return ip_rcv.
  const ts = (f: string, ret: boolean) => ev.find((e) => e.function === f && e.is_return === ret)!.timestamp;
  assert.ok(ts("ip_rcv", false) < ts("udp_rcv", false));
  assert.ok(ts("udp_rcv", true) <= ts("ip_rcv", true));
  const agg = ipft([
    "-b",
    "ftrace",
    "-t",
    "function_graph",
    "-r",
    "^(ip_rcv|udp_rcv)$",
    "-m",
    String(MARK),
    "--",
    ...senderArgs(MARK, ["--count", "1"]),
  ]);
  assert.equal(agg.status, 0, agg.stderr);
  // Calls open with `name() {` and close with `}`, indented by depth, as ipftrace2 prints them.
  assert.match(agg.stdout, / ip_rcv\(\) \{ *\n.* {3}udp_rcv\(\) \{ *\n.* {3}\} *\n.* \} *\n/);
});
