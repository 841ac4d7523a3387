// pcapng blocks written per second: one Enhanced Packet Block per event (a 128-byte packet, a ~60-byte
// comment, epb_packetid), to a file, with the sink's 64 KiB buffer and with one write(2) per block; next to
// tshark's own rate reading the same file (`tshark -r F -T fields -e frame.number > /dev/null`) as context.
//   node dist/bench/pcapng-bench.js [events]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_ETHERNET } from "../src/pcapng/format.js";
import { writePacket } from "../src/pcapng/packet-input.js";
import { readPcapngFile } from "../src/pcapng/reader.js";
import { openBlockSink } from "../src/pcapng/sinks.js";
import { PcapngWriter } from "../src/pcapng/writer.js";

const N = Number(process.argv[2] ?? 500_000);
const dir = mkdtempSync(join(tmpdir(), "ipft-pcapng-bench-"));
const packet = new Uint8Array(128).map((_, i) => i);

function write(path: string, bufferBytes: number, n: number): number {
  const t = performance.now();
  const w = new PcapngWriter(openBlockSink(path, { bufferBytes }), { userappl: "ipft bench" });
  const id = w.interfaceFor({ name: "eth0", netns: 4026531840, linktype: LINKTYPE_ETHERNET });
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    writePacket(w, {
      interfaceId: id,
      timestampNs: t0 + BigInt(i),
      data: packet,
      comments: [`ip_rcv+0x0 skb=0xffff888812345678 cpu=${i & 3} netns=4026531840 ${i}`],
      packetId: 0xffff888812345678n,
    });
    if ((i & 4095) === 4095) w.flush(); // what ipft does after each drain of the ring
  }
  w.close();
  return (performance.now() - t) / 1000;
}

const row = (what: string, n: number, sec: number) =>
  console.log(
    `${what.padEnd(44)} ${String(Math.round(n / sec)).padStart(9)} events/s  ${((sec * 1e6) / n).toFixed(2).padStart(6)} µs/event`,
  );

const f = join(dir, "bench.pcapng");
write(f, 64 * 1024, 20_000); // warm up
const buffered = write(f, 64 * 1024, N);
const size = statSync(f).size;
console.log(`${N} events, ${(size / N).toFixed(0)} bytes per block, ${(size / 1e6).toFixed(1)} MB`);
row("ipft writer, 64 KiB buffer, flush every 4096", N, buffered);
const unbufferedN = Math.min(N, 200_000);
const g = join(dir, "unbuffered.pcapng");
row("ipft writer, one write(2) per block", unbufferedN, write(g, 0, unbufferedN));
let t = performance.now();
const read = readPcapngFile(f);
row("ipft reader (whole file, parsed)", read.packets.length, (performance.now() - t) / 1000);
const tshark = spawnSync("tshark", ["--version"]).status === 0;
if (tshark) {
  t = performance.now();
  const r = spawnSync("sh", ["-c", `tshark -r "${f}" -T fields -e frame.number > /dev/null 2>&1`]);
  const sec = (performance.now() - t) / 1000;
  if (r.status === 0) row("tshark -r F -T fields -e frame.number", N, sec);
  else console.log(`tshark failed on the file (status ${r.status})`);
} else console.log("tshark is not installed: no reference read rate (scripts/setup.sh installs it)");
rmSync(dir, { recursive: true });
