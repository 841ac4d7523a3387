// The late free (plan/late-free.ts): TCP data sent on CPU 0 and read on CPU 1 is freed by CPU 0 the next
// time it runs the receive softirq. Freed while a later trace runs, it is no packet of it (counted apart
// under -v); traced from its start, its late free is its verdict.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ipft, jsonLines, kernelSkipReason, ROOT, SENDER } from "../support/run.js";
import { tempDir } from "../support/temp-dir.js";

/** Whether consume_skb says where it was called from (since 6.3): the late free is known by that. */
function consumeHasLocation(): boolean {
  for (const t of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) {
    const f = `${t}/events/skb/consume_skb/format`;
    if (existsSync(f)) return /\blocation;/.test(readFileSync(f, "utf8"));
  }
  const [maj, min] = (/^(\d+)\.(\d+)/.exec(readFileSync("/proc/sys/kernel/osrelease", "utf8")) ?? [])
    .slice(1)
    .map(Number);
  return maj! > 6 || (maj === 6 && min! >= 3);
}

const skip =
  kernelSkipReason() ??
  (availableParallelism() < 2 ? "needs 2 CPUs (a packet read on another CPU than its own)" : undefined) ??
  (consumeHasLocation()
    ? undefined
    : "consume_skb has no location before 6.3: a late free is not known there");

const MARK = 0x2d1;
const PORT = 9731;
const WRITES = 8;
const node = process.execPath;
const dir = tempDir("ipft-late");
const ready = join(dir, "ready");
// A TCP receiver that reads until the end, then exits; a sender that marks its connection and writes
// WRITES times, a little apart (each its own segment).
const receiver = join(dir, "receiver.cjs");
writeFileSync(
  receiver,
  `const srv = require("net").createServer((s) => { s.on("data", () => {}); s.on("end", () => { s.end(); srv.close(); }); });
srv.listen(${PORT}, "127.0.0.1", () => require("fs").writeFileSync(${JSON.stringify(ready)}, ""));
`,
);
const sender = join(dir, "sender.mjs");
writeFileSync(
  sender,
  `import net from "node:net";
import { setMark } from ${JSON.stringify(`${ROOT}dist/src/tools/socket.js`)};
const c = net.connect(${PORT}, "127.0.0.1", () => {
  setMark(c._handle.fd, ${MARK});
  let i = 0;
  const more = () => (i++ < ${WRITES} ? c.write(Buffer.alloc(1000, 97), () => setTimeout(more, 2)) : c.end());
  more();
});
`,
);

/** Marked TCP data made on CPU 0, read on CPU 1 (sh). */
const traffic = [
  `rm -f ${ready}`,
  `taskset -c 1 ${node} ${receiver} &`,
  `while [ ! -e ${ready} ]; do sleep 0.02; done`,
  `taskset -c 0 ${node} ${sender}`,
  "wait",
].join("\n");
/** An unmarked datagram on CPU 0: its receive softirq frees what waits there. */
const flush = `taskset -c 0 ${node} ${SENDER} --mark 0 --count 1 --closed --port ${PORT + 1} 2>/dev/null`;
const LATE = /^(skb_defer_free_flush|net_rx_action)\+/;

interface Ev {
  packet_id: number;
  function: string;
  verdict?: string;
  location?: string;
}

test("a packet delivered before tracing began and freed late during it is no packet of the trace", {
  skip,
}, (t) => {
  // The data's journey, with no trace; the memory of the last segment read waits on CPU 0.
  const made = spawnSync("sh", ["-c", traffic], { encoding: "utf8", timeout: 60_000 });
  assert.equal(made.status, 0, made.stderr);
  const r = ipft(["-v", "-m", String(MARK), "-o", "json", "--", "sh", "-c", flush]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(jsonLines<Ev>(r.stdout), [], "no event of a packet freed late");
  const left = Number(/left out (\d+) packets? freed late/.exec(r.stderr)?.[1] ?? 0);
  if (left === 0) {
    t.skip("no late free happened during the trace (CPU 0 freed the data before it began)");
    return;
  }
  assert.ok(left <= WRITES, r.stderr);
  assert.doesNotMatch(r.stderr, /^\d+ packets?: /m, "no packet counted");

  // Traced from its start, the same data ends at its late free: that is its verdict.
  const file = join(dir, "whole.pcapng");
  const whole = ipft([
    "-m",
    String(MARK),
    "-o",
    "json",
    "-w",
    file,
    "--",
    "sh",
    "-c",
    `${traffic}\n${flush}`,
  ]);
  assert.equal(whole.status, 0, whole.stderr);
  const events = jsonLines<Ev>(whole.stdout);
  const late = events.filter((e) => e.verdict === "consume" && LATE.test(e.location ?? ""));
  assert.ok(late.length > 0, whole.stdout);
  for (const e of late) {
    const first = events.find((x) => x.packet_id === e.packet_id)!;
    assert.notEqual(first, e, `packet ${e.packet_id} was traced before its late free`);
  }
  // Its verdict line says what the late free is, where the kernel has the function by its name.
  if (late.some((e) => e.location!.startsWith("skb_defer_free_flush+"))) {
    const text = ipft(["--read", file]);
    assert.match(
      text.stdout,
      /^Verdict: consumed at skb_defer_free_flush\+0x[0-9a-f]+ \(freed late: a socket read it on another CPU\)$/m,
    );
  }
});
