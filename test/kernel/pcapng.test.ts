// -w FILE on real traffic: tshark and capinfos read every event, each one's comment is the stream output's line
// in the order ipft saw them, `ipft --read` prints what the live run printed (aggregate, stream, json), a
// signal ends the file with its statistics, a SIGKILL leaves a file readable up to its last block, and
// `-w -` feeds tshark through a pipe. When the records carry packet bytes, tshark decodes them.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { IPFT_PEN, LINKTYPE_WIRESHARK_UPPER_PDU, OPT_CUSTOM_BIN } from "../../src/pcapng/format.js";
import { readPcapngFile } from "../../src/pcapng/reader.js";
import { makeVethPair, netnsSkipReason, trafficCommand, type VethPair } from "../support/netns.js";
import {
  hasTool,
  IPFT,
  ipft,
  jsonLines,
  kernelSkipReason,
  onePassSkipReason,
  SENDER,
  senderArgs,
} from "../support/run.js";
import { tempDir } from "../support/temp-dir.js";

const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
/** Events a dropped loopback datagram has at least: six tracepoints, or the -r functions below and the drop. */
const PER_PACKET = BACKEND === "tracepoint" ? 6 : 3;
const SELECT =
  BACKEND === "tracepoint"
    ? ["-b", BACKEND]
    : ["-b", BACKEND, "-r", "^(ip_rcv|__udp4_lib_rcv|tcp_v4_rcv|ip_output)$"];
const skip =
  kernelSkipReason() ?? (hasTool("tshark") && hasTool("capinfos") ? undefined : "needs tshark and capinfos");
const dir = tempDir("ipft-pcapng");
after(() => rmSync(dir, { recursive: true, force: true }));

function tshark(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  // tshark warns about running as root on every run: not about the file.
  const stderr = r.stderr
    .split("\n")
    .filter((l) => l && !/Running as user "root"/.test(l))
    .join("\n");
  return { status: r.status ?? -1, stdout: r.stdout, stderr };
}

/** Every frame's comments (the first is the human-readable line) and the frame's timestamp. */
function comments(file: string): string[][] {
  const r = tshark([
    "-r",
    file,
    "-T",
    "fields",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=\u0001",
    "-e",
    "frame.comment",
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "", "tshark complains about the file");
  return r.stdout
    .split("\n")
    .filter((l) => l)
    .map((l) => l.split("\u0001"));
}

function capinfosClean(file: string): string {
  const r = spawnSync("capinfos", [file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /error|cut short|damaged/i);
  return r.stdout;
}

/** The frames' packet bytes can be decoded only when the records carry them (cap_len > 0). */
function decodeOrSkip(
  t: TestContext,
  file: string,
  fields: string[],
  check: (rows: string[][]) => void,
): void {
  const withBytes = readPcapngFile(file).packets.filter(
    (p) => p.interface.linktype !== LINKTYPE_WIRESHARK_UPPER_PDU,
  );
  if (withBytes.length === 0) {
    t.skip("the trace records carry no packet bytes yet (cap_len = 0): nothing for tshark to decode");
    return;
  }
  const r = tshark(["-r", file, "-T", "fields", ...fields.flatMap((f) => ["-e", f])]);
  assert.equal(r.status, 0, r.stderr);
  check(
    r.stdout
      .split("\n")
      .filter((l) => l)
      .map((l) => l.split("\t")),
  );
}

describe("loopback UDP to a closed port, traced with -w", { skip }, () => {
  const MARK = 0x7b1;
  const PORT = "9711";
  const send = senderArgs(MARK, ["--count", "3", "--closed", "--port", PORT]);
  const file = (o: string) => join(dir, `udp-${o}.pcapng`);
  const live: Record<string, ReturnType<typeof ipft>> = {};
  before(() => {
    for (const o of ["aggregate", "stream", "json"])
      live[o] = ipft([...SELECT, "-m", String(MARK), "-o", o, "-w", file(o), "--", ...send]);
  });

  test("--read prints what the live run printed, byte for byte, in every format", () => {
    for (const o of ["aggregate", "stream", "json"]) {
      assert.equal(live[o]!.status, 0, live[o]!.stderr);
      assert.ok(live[o]!.stdout.length > 0, `${o}: nothing traced`);
      const r = ipft(["--read", file(o), "-o", o]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, live[o]!.stdout, `${o} differs`);
      // The summary too (stderr's last lines after "Trace done!").
      const summary = live[o]!.stderr.split("Trace done!\n")[1]!;
      assert.equal(r.stderr, summary, `${o}: summary differs`);
    }
    // Another output than the one traced: the json file read as aggregate equals the aggregate run's shape.
    const agg = ipft(["--read", file("json")]);
    assert.match(agg.stdout, /^Timestamp +Elapsed +CPU/);
    assert.equal(agg.stdout.match(/^Verdict: dropped \(NO_SOCKET\)/gm)?.length, 3, agg.stdout);
  });

  test("tshark reads every event; its one comment is the stream line, in order; the record is ipft's option", () => {
    const frames = comments(file("stream"));
    // The stream line as the file's comment has it: without the time since the packet's first event
    // (ipftrace2's layout) and without the packet's identity, which the file keeps as its part.
    const lines = live
      .stream!.stdout.trimEnd()
      .split("\n")
      .map((l) => l.replace(/^(\d+ 0x[0-9a-f]+ \d+) [+-]\S+ /, "$1 "));
    assert.equal(frames.length, lines.length);
    frames.forEach((c, i) => {
      assert.ok(lines[i]!.startsWith(c[0]!), `${lines[i]}\n${c[0]}`);
    });
    for (const c of frames) assert.equal(c.length, 1, c.join(" | "));
    // Each block carries the record in ipft's custom option, and --read's json is the live json.
    const c = readPcapngFile(file("json"));
    assert.ok(c.packets.every((p) => p.custom.some((o) => o.pen === IPFT_PEN && o.code === OPT_CUSTOM_BIN)));
    // -w cuts packets to 256 bytes by default, and its interfaces say so.
    assert.deepEqual(
      c.interfaces.map((i) => i.snaplen),
      c.interfaces.map(() => 256),
    );
    const back = ipft(["--read", file("json"), "-o", "json"]);
    assert.equal(back.status, 0, back.stderr);
    const json = jsonLines<Record<string, unknown>>(back.stdout);
    assert.equal(json.length, c.packets.length);
    assert.equal(back.stdout, live.json!.stdout);
    // A packet: its packet id, up to its verdict.
    const open = new Map<string, Record<string, unknown>[]>();
    const packets: Record<string, unknown>[][] = [];
    for (const e of json) {
      const evs = [...(open.get(String(e.packet_id)) ?? []), e];
      open.set(String(e.packet_id), evs);
      if (e.verdict) {
        packets.push(evs);
        open.delete(String(e.packet_id));
      }
    }
    assert.equal(packets.length, 3);
    assert.equal(open.size, 0);
    for (const evs of packets) {
      assert.ok(evs.length >= PER_PACKET, JSON.stringify(evs));
      for (let i = 1; i < evs.length; i++)
        assert.ok(Number(evs[i]!.timestamp) >= Number(evs[i - 1]!.timestamp));
      assert.equal(evs.at(-1)!.function, "kfree_skb");
      assert.equal(evs.at(-1)!.drop_reason, "NO_SOCKET");
    }
    // Wireshark's own filters find them.
    const drops = tshark(["-r", file("stream"), "-Y", 'frame.comment contains "dropped (NO_SOCKET)"']);
    assert.equal(drops.stdout.trimEnd().split("\n").length, 3, drops.stdout);
    const info = capinfosClean(file("aggregate"));
    assert.match(info, /Capture application: +ipft /);
    assert.match(info, new RegExp(`Number of packets: +${json.length}\\b`));
  });

  test("when the records carry packet bytes, tshark decodes the UDP datagram", (t) => {
    decodeOrSkip(t, file("json"), ["ip.dst", "udp.dstport"], (rows) => {
      const udp = rows.filter((r) => r[1] === PORT);
      assert.ok(udp.length >= 3, rows.join("\n"));
      for (const r of udp) assert.equal(r[0], "127.0.0.1");
    });
  });
});

test("30 datagrams: 30 packet ids in json, and tshark's frame.packet_id == N is one packet's journey", {
  skip: skip ?? onePassSkipReason() ?? (hasTool("jq") ? undefined : "needs jq"),
}, (t) => {
  const f = join(dir, "ids.pcapng");
  const cmd = senderArgs(0x7b7, ["--count", "30", "--closed", "--port", "9731"]);
  const live = ipft(["-b", "tracepoint", "-m", "0x7b7", "-o", "json", "-w", f, "--", ...cmd]);
  assert.equal(live.status, 0, live.stderr);
  const jq = (filter: string) => {
    const r = spawnSync("jq", ["-s", "-c", filter], { input: live.stdout, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  // Each datagram is a packet of its own, however few sk_buffs the kernel used for them.
  assert.deepEqual(
    jq("map(.packet_id) | unique"),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  t.diagnostic(`${jq("map(.skb) | unique | length")} skb addresses for 30 datagrams`);
  for (const n of [1, 17, 30]) {
    const r = tshark(["-r", f, "-Y", `frame.packet_id == ${n}`, "-T", "fields", "-e", "frame.comment"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    // The events json gives packet n, in order, one journey: its path, then its one drop.
    const mine = jq(`map(select(.packet_id == ${n})) | map(.function)`) as string[];
    assert.equal(lines.length, mine.length, r.stdout);
    assert.ok(mine.length >= PER_PACKET, r.stdout);
    lines.forEach((l, i) => {
      assert.match(l, new RegExp(`^${n} 0x[0-9a-f]+ \\d+ \\d{3} vmlinux ${mine[i]}( |$)`));
    });
    assert.equal(lines.filter((l) => / kfree_skb dropped /.test(l)).length, 1, r.stdout);
  }
});

describe("TCP between network namespaces, traced with -w", { skip: skip ?? netnsSkipReason() }, () => {
  const PORT = 7821;
  const MARK = 0x7b2;
  let pair: VethPair | undefined;
  before(() => {
    pair = makeVethPair("ipftpw", PORT, MARK);
  });
  after(() => pair?.remove());
  const file = join(dir, "tcp.pcapng");

  test("tshark reads every event, capinfos finds no error, --read prints the live aggregate", () => {
    const p = pair!;
    const cmd = trafficCommand({
      kind: "tcp",
      serverNs: p.nsB,
      clientNs: p.nsA,
      host: p.addrB,
      port: PORT,
      srcPort: 40321,
      size: 3000,
      ready: join(dir, "tcp-ready"),
    });
    const live = ipft([...SELECT, "-m", String(MARK), "-w", file, "--", ...cmd]);
    assert.equal(live.status, 0, live.stderr);
    const events = live.stdout.split("\n").filter((l) => /^\d+ /.test(l)).length;
    assert.ok(events > 10, live.stdout);
    const frames = comments(file);
    assert.equal(frames.length, events);
    assert.ok(
      frames.some((c) => /tcp/.test(c[0]!)),
      "no TCP attach point named",
    );
    capinfosClean(file);
    const r = ipft(["--read", file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, live.stdout);
  });

  test("when the records carry packet bytes, tshark decodes the TCP segments", (t) => {
    const p = pair!;
    decodeOrSkip(t, file, ["ip.src", "ip.dst", "tcp.dstport", "tcp.srcport"], (rows) => {
      const tcp = rows.filter((r) => r[2] === String(PORT) || r[3] === String(PORT));
      assert.ok(tcp.length > 0, rows.join("\n"));
      for (const r of tcp) assert.ok([p.addrA, p.addrB].includes(r[0]!), r.join(" "));
    });
  });
});

/** Background runs still alive when a test failed: stopped cleanly at the end. */
const running = new Set<ChildProcess>();
after(() => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGINT");
});

/** ipft in the background, ready once its ready file exists. */
async function background(
  args: string[],
  ready: string,
): Promise<{ child: ChildProcess; stderr: () => string }> {
  rmSync(ready, { force: true });
  const child = spawn(process.execPath, [IPFT, ...args, "--ready-file", ready], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const end = Date.now() + 60_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`ipft did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stderr: () => err };
}

const exited = (c: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((res) => {
    if (c.exitCode !== null || c.signalCode !== null) res({ code: c.exitCode, signal: c.signalCode });
    else c.once("exit", (code, signal) => res({ code, signal }));
  });

// Signals and a cut file do not depend on the backend: once per suite.
describe("how a -w file ends", { skip: skip ?? onePassSkipReason() }, () => {
  test("SIGINT, SIGTERM and SIGHUP finish the file with its statistics", async () => {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const file = join(dir, `sig-${sig}.pcapng`);
      const run = await background(
        [...SELECT, "-m", "0x7b3", "-o", "stream", "-w", file],
        join(dir, "sig-ready"),
      );
      const s = spawnSync(senderArgs(0x7b3)[0]!, [
        SENDER,
        "--mark",
        "0x7b3",
        "--count",
        "2",
        "--closed",
        "--port",
        "9713",
      ]);
      assert.equal(s.status, 0);
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill(sig);
      const ex = await exited(run.child);
      assert.equal(ex.code, 0, `${sig}: ${run.stderr()}`);
      const c = readPcapngFile(file);
      assert.equal(c.truncated, false, sig);
      assert.ok(c.statistics.length >= 1, `${sig}: no statistics block`);
      assert.ok(c.packets.length >= 2 * PER_PACKET, `${sig}: ${c.packets.length} events`);
      capinfosClean(file);
      const r = ipft(["--read", file, "-o", "stream"]);
      assert.doesNotMatch(r.stderr, /cut short/);
    }
  });

  test("a SIGKILL mid-trace leaves a file readable up to its last block; --read says it was cut short", async () => {
    const file = join(dir, "killed.pcapng");
    const run = await background(
      [...SELECT, "-m", "0x7b4", "-o", "stream", "-w", file],
      join(dir, "kill-ready"),
    );
    // A few events, far fewer than the file's buffer holds: the drain that read them also wrote them.
    const few = spawnSync(process.execPath, [
      SENDER,
      "--mark",
      "0x7b4",
      "--count",
      "2",
      "--closed",
      "--port",
      "9714",
    ]);
    assert.equal(few.status, 0);
    let early = 0;
    for (let i = 0; i < 30 && early < 2 * PER_PACKET; i++) {
      await new Promise((r) => setTimeout(r, 100));
      early = readPcapngFile(file).packets.length;
    }
    assert.ok(
      early >= 2 * PER_PACKET,
      `${early} events in the file while tracing: the drains did not flush it`,
    );
    const flood = spawn(
      process.execPath,
      [SENDER, "--mark", "0x7b4", "--duration", "3", "--closed", "--port", "9714"],
      {
        stdio: "ignore",
      },
    );
    try {
      // Traffic for a while, so drains have flushed whole blocks to the file, then kill mid-flood.
      const end = Date.now() + 10_000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        if (existsSync(file) && readPcapngFile(file).packets.length > 1000) break;
      }
      run.child.kill("SIGKILL");
      await exited(run.child);
    } finally {
      flood.kill("SIGKILL");
      await exited(flood);
    }
    const c = readPcapngFile(file);
    assert.ok(c.packets.length > 1000, `${c.packets.length} events before the kill`);
    assert.equal(c.statistics.length, 0, "a killed run wrote no statistics");
    // tshark reads every whole block; the only complaint allowed is a cut in the last one.
    const t = tshark(["-r", file, "-T", "fields", "-e", "frame.number"]);
    const read = t.stdout.trimEnd().split("\n").length;
    assert.equal(read, c.packets.length);
    if (t.stderr)
      assert.match(
        t.stderr,
        /^tshark: The file ".*" appears to have been cut short in the middle of a packet\.$/,
      );
    const info = spawnSync("capinfos", [file], { encoding: "utf8" });
    for (const l of info.stderr.split("\n").filter((x) => x))
      assert.match(l, /cut short|An error occurred after reading \d+ packets/, info.stderr);
    const r = ipft(["--read", file, "-o", "stream"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /was cut short/);
    assert.equal(r.stdout.trimEnd().split("\n").length, c.packets.length);
  });

  test("-w - feeds tshark through a pipe; the trace's text goes to stderr", () => {
    const cmd = senderArgs(0x7b5, ["--count", "2", "--closed", "--port", "9715"])
      .map((a) => `'${a}'`)
      .join(" ");
    const sh = `'${process.execPath}' '${IPFT}' ${SELECT.map((a) => `'${a}'`).join(" ")} -m 0x7b5 -o stream -w - -- ${cmd} | tshark -r - -T fields -e frame.comment`;
    const r = spawnSync("sh", ["-c", sh], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const frames = r.stdout.trimEnd().split("\n");
    assert.ok(frames.length >= 2 * PER_PACKET, r.stdout);
    // The file's comments are the stream lines without the time since the packet's first event and
    // without the packet identity's text.
    const streamLines = r.stderr
      .split("\n")
      .filter((l) => /^\d+ 0x[0-9a-f]+ \d+ [+-]\S+ \d{3} /.test(l))
      .map((l) => l.replace(/^(\d+ 0x[0-9a-f]+ \d+) [+-]\S+ /, "$1 "));
    assert.equal(frames.length, streamLines.length);
    frames.forEach((f, i) => {
      assert.ok(streamLines[i]!.startsWith(f), `${streamLines[i]}\n${f}`);
    });
  });
});
