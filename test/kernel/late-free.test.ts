// The late free (plan/late-free.ts): datagrams sent on CPU 0 and read on CPU 1 are freed by CPU 0 the next
// time it runs the receive softirq. Freed while a later trace runs, they are no packets of it (counted
// apart under -v); traced from their start, their late free is their verdict.
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ipft, jsonLines, kernelSkipReason, onePassSkipReason, SENDER } from "../support/run.js";
import { tempDir } from "../support/temp-dir.js";

const skip =
  kernelSkipReason() ??
  onePassSkipReason() ??
  (availableParallelism() < 2 ? "needs 2 CPUs (a packet read on another CPU than its own)" : undefined);

const MARK = 0x2d1;
const PORT = 9731;
const COUNT = 8;
const node = process.execPath;
// A receiver on CPU 1 that reads COUNT datagrams, then exits; READY says it is bound.
const RECEIVER = `const s=require("dgram").createSocket("udp4");let n=0;s.on("message",()=>{if(++n>=${COUNT})s.close()});s.bind(${PORT},"127.0.0.1",()=>require("fs").writeFileSync(process.argv[1],""))`;

/** Marked datagrams made on CPU 0, read on CPU 1 (sh). */
function traffic(ready: string): string {
  return [
    `rm -f ${ready}`,
    `taskset -c 1 ${node} -e '${RECEIVER}' ${ready} &`,
    `while [ ! -e ${ready} ]; do sleep 0.02; done`,
    `taskset -c 0 ${node} ${SENDER} --mark ${MARK} --count ${COUNT} --closed --port ${PORT} 2>/dev/null`,
    "wait",
  ].join("\n");
}
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
  const ready = join(tempDir("ipft-late-"), "ready");
  // The datagrams' journey, with no trace; their memory waits on CPU 0.
  const made = ipft(["-m", String(MARK + 1), "--", "sh", "-c", traffic(ready)]);
  assert.equal(made.status, 0, made.stderr);
  const r = ipft(["-v", "-m", String(MARK), "-o", "json", "--", "sh", "-c", flush]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(jsonLines<Ev>(r.stdout), [], "no event of a packet freed late");
  const left = Number(/left out (\d+) packets freed late/.exec(r.stderr)?.[1] ?? 0);
  if (left === 0) {
    t.skip(
      "no late free happened during the trace (this kernel defers UDP frees since 6.18; or CPU 0 freed them before)",
    );
    return;
  }
  assert.ok(left <= COUNT, r.stderr);
  assert.doesNotMatch(r.stderr, /^\d+ packets?: /m, "no packet counted");

  // Traced from their start, the same datagrams end at their late free: that is their verdict.
  const whole = ipft(["-m", String(MARK), "-o", "json", "--", "sh", "-c", `${traffic(ready)}\n${flush}`]);
  assert.equal(whole.status, 0, whole.stderr);
  const events = jsonLines<Ev>(whole.stdout);
  const late = events.filter((e) => e.verdict === "consume" && LATE.test(e.location ?? ""));
  assert.ok(late.length > 0, whole.stdout);
  for (const e of late) {
    const first = events.find((x) => x.packet_id === e.packet_id)!;
    assert.notEqual(first, e, `packet ${e.packet_id} was traced before its late free`);
  }
});
