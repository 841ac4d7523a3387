// --drops' user-space cost alone, on a synthetic TCP flood like drops-flood's: per packet 8 events at the
// tracepoints a segment or an ACK crosses between two namespaces, most packets ending where no verdict is
// traced (freed after delivery to the reader, or after the ACK was processed), their skb addresses reused
// at once (the slab hands a freed skb to the next packet), tracked (each packet has its own track id), one
// in 5,000 dropped. Through createWriter with --drops, next to the default aggregate output (the peer,
// same records): events/s, memory held at the end, packets let go. No root needed.
//   node --expose-gc dist/bench/drops-hold.js [packets]
import { createWriter, PacketTracker } from "../src/output/index.js";
import { heldBytes } from "./heap.js";

const PACKETS = Number(process.argv[2] ?? 500_000);
const HOPS = 8;

const nothing = { write: () => {} };
const symbolizer = { resolve: (a: bigint) => ({ name: `f_${Number(a & 0xfffn)}`, module: "vmlinux" }) };
const verdicts = { reason: () => "TCP_OLD_DATA", location: () => "tcp_data_queue+0x10" };

/** The records, in one buffer like the ring's pages: 4 packets in flight at a time, interleaved. */
function flood(): { dv: DataView; n: number } {
  const n = PACKETS * HOPS;
  const dv = new DataView(new ArrayBuffer(n * 128));
  const addrs = 64; // skb addresses in use, each reused by the next packet once its packet is done
  let i = 0;
  for (let base = 0; base < PACKETS; base += 4)
    for (let hop = 0; hop < HOPS; hop++)
      for (let k = 0; k < 4 && base + k < PACKETS; k++) {
        const pkt = base + k;
        const o = i++ * 128;
        dv.setBigUint64(o, 0xffff888100000000n + BigInt((pkt % addrs) * 256), true);
        dv.setBigUint64(o + 8, BigInt(pkt * 10_000 + hop * 100), true);
        dv.setBigUint64(o + 16, 0xffffffff81000000n + BigInt(hop * 64), true);
        dv.setUint32(o + 24, k & 1, true);
        dv.setBigUint64(o + 56, BigInt(pkt * 10_000 + 1), true); // track id
        if (hop === HOPS - 1 && pkt % 5000 === 4999) {
          dv.setUint32(o + 32, 1, true); // dropped
          dv.setUint32(o + 36, 2, true);
          dv.setBigUint64(o + 40, 0xffffffff81100010n, true);
        }
      }
  return { dv, n: i };
}

function run(dropsOnly: boolean, dv: DataView, n: number) {
  const before = heldBytes();
  // Packet ids are numbered as a live run's reader does, before the writer, which reads the same tracker.
  const ids = new PacketTracker();
  const w = createWriter("aggregate", {
    out: nothing,
    err: nothing,
    symbolizer,
    progress: false,
    verdicts,
    dropsOnly,
    maxTraces: n,
    // With tracking the kernel counts packets: the ledger only counts verdicts (as in a live run).
    kernelCounts: () => ({ seen: PACKETS, lastSeen: new Map() }),
    numbering: ids,
  });
  const t = performance.now();
  for (let i = 0; i < n; i++) w.write(dv, i * 128, ids.of(dv, i * 128));
  const s = (performance.now() - t) / 1000;
  const mem = heldBytes() - before;
  const notice = w.summary().find((l) => /let go/.test(l)) ?? "";
  const letGo = /let go of (\d+)/.exec(notice)?.[1] ?? /(\d+) packets were let go/.exec(notice)?.[1] ?? "0";
  return { rate: n / s, mem: mem / (1 << 20), letGo, stored: w.count };
}

const { dv, n } = flood();
// Once to warm up, then measured.
run(true, dv, Math.min(n, 200_000));
run(false, dv, Math.min(n, 200_000));
const d = run(true, dv, n);
const a = run(false, dv, n);
console.log(`\ndrops-hold: ${n} events of ${PACKETS} packets (${PACKETS / 5000} dropped), user space only\n`);
console.log("writer            events/s      held MiB   packets let go   events written");
for (const [name, r] of [
  ["--drops", d],
  ["aggregate", a],
] as const)
  console.log(
    `${name.padEnd(17)} ${Math.round(r.rate).toString().padEnd(13)} ${r.mem.toFixed(1).padEnd(10)} ${r.letGo.padEnd(16)} ${r.stored}`,
  );
console.log(
  `\nratio --drops/aggregate: events/s ${(d.rate / a.rate).toFixed(2)}x, memory ${(d.mem / a.mem).toFixed(3)}x`,
);
