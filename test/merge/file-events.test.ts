// A file of --read A B C read piece by piece (src/merge/file-events.ts): the same events, in the same
// order, as reading it whole, whatever the piece size; a file cut inside a block is read up to it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { FileEvents } from "../../src/merge/file-events.js";
import { replayOf } from "../../src/output/pcapng-replay.js";
import { readPcapngFile } from "../../src/pcapng/reader.js";
import { OFF_FUNC, readTimestamp } from "../../src/record/record.js";
import { ev, IP_RCV, type Machine, removeFiles, UDP_RCV, udp, writeFiles } from "./files.js";

after(removeFiles);

function machine(n: number): Machine {
  const m: Machine = { host: "h", bootId: "b", offsetNs: 1_000_000n, events: [] };
  for (let k = 0; k < n; k++) {
    const bytes = udp("10.0.1.2", "10.0.2.2", k, 64);
    m.events.push(ev(BigInt(k + 1), 5_000n + BigInt(k) * 100n, IP_RCV, bytes));
    m.events.push(ev(BigInt(k + 1), 5_050n + BigInt(k) * 100n, UDP_RCV, bytes, "consumed"));
  }
  return m;
}

/** Each event as `timestamp function packet-id`. */
function streamed(path: string, piece?: number): string[] {
  const e = new FileEvents(path, piece);
  const out: string[] = [];
  while (e.next()) out.push(`${e.ts} ${e.dv.getBigUint64(e.off + OFF_FUNC, true)} ${e.packetId}`);
  return out;
}

test("read in pieces of any size, a file gives the events reading it whole gives", () => {
  const [path] = writeFiles({ h: machine(300) });
  const r = replayOf(readPcapngFile(path!), path!);
  const dv = new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
  const whole = r.offsets.map(
    (off, i) => `${readTimestamp(dv, off)} ${dv.getBigUint64(off + OFF_FUNC, true)} ${r.packetIds![i]}`,
  );
  assert.equal(whole.length, 600);
  for (const piece of [64, 1000, 4096, undefined])
    assert.deepEqual(streamed(path!, piece), whole, `pieces of ${piece}`);
  const e = new FileEvents(path!, 1000);
  while (e.next());
  assert.equal(e.count, 600);
  assert.equal(e.truncated, false);
  assert.equal(e.firstNs, 5_000n);
});

test("a file cut inside its last block: the whole events before it, said truncated", () => {
  const [path] = writeFiles({ h: machine(50) });
  const bytes = readFileSync(path!);
  const whole = streamed(path!);
  writeFileSync(path!, bytes.subarray(0, Math.floor(bytes.length * 0.6) | 1)); // inside an event's block
  const e = new FileEvents(path!, 512);
  let n = 0;
  while (e.next()) n++;
  assert.equal(e.truncated, true);
  assert.ok(n > 0 && n < whole.length, `${n} of ${whole.length}`);
  assert.deepEqual(streamed(path!, 512), whole.slice(0, n));
});

test("a pipe (`--read <(...)`) reads as the file does: in order, once", () => {
  const [path] = writeFiles({ h: machine(200) });
  const fifo = join(dirname(path!), "pipe");
  const made = spawnSync("mkfifo", [fifo]);
  if (made.status !== 0) return void console.log(`# skipped: mkfifo: ${made.stderr}`);
  const writer = spawn("sh", ["-c", `cat "${path}" > "${fifo}"`]);
  try {
    assert.deepEqual(streamed(fifo, 1000), streamed(path!));
  } finally {
    writer.kill();
  }
});
