// Synthetic trace files of several machines for the merge tests: IPv4 UDP packets with an IP id, a TTL
// and addresses of their own, written by the pcapng writer as -w writes them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PacketTracker } from "../../src/output/index.js";
import { PcapngOutput } from "../../src/output/pcapng.js";
import type { DropDetails } from "../../src/output/types.js";
import { type Unseen, unseenFileFields } from "../../src/output/unseen.js";
import { MonotonicClock } from "../../src/pcapng/clock.js";
import { MemorySink } from "../../src/pcapng/sinks.js";
import { LINK_NETWORK, VERDICT_CONSUME, VERDICT_DROP } from "../../src/record/record.js";
import { type Ev, namer, recordOffsets, records, symbolizer } from "../output/records.js";
import { ipv4Udp } from "../pcapng/packets.js";

export { IP_RCV, UDP_RCV } from "../output/records.js";

/** A UDP datagram as seen at one point: its addresses, IP id, TTL, and which payload (its bytes). */
export function udp(src: string, dst: string, id: number, ttl: number, sport = 4000, dport = 9): number[] {
  const b = ipv4Udp(src, dst, sport, dport, 16);
  const dv = new DataView(b.buffer);
  dv.setUint16(4, id);
  b[8] = ttl;
  return [...b];
}

/** One event of a packet: an skb at a time, with its bytes. */
export function ev(skb: bigint, ts: bigint, func: bigint, bytes: number[], end?: "consumed" | "dropped"): Ev {
  return {
    skb,
    ts,
    func,
    cpu: 0,
    packet: { bytes, wireLen: bytes.length, link: LINK_NETWORK },
    ...(end === "consumed" ? { verdict: { kind: VERDICT_CONSUME, location: 0n } } : {}),
    ...(end === "dropped" ? { verdict: { kind: VERDICT_DROP, reason: 3, location: 0n } } : {}),
  };
}

export interface Machine {
  host: string;
  bootId: string;
  offsetNs: bigint;
  events: Ev[];
  /** Drops' details the live run learned (--nft-trace's rule), by the drop's own timestamp. */
  dropDetails?: DropDetails;
  /** What the trace could not see (the statistics' "ipft:" fields). */
  unseen?: Unseen;
}

/** The file -w writes of these events. */
export function traceFile(m: Machine): Uint8Array {
  const sink = new MemorySink();
  const out = new PcapngOutput(sink, {
    clock: new MonotonicClock({ offsetNs: m.offsetNs, uncertaintyNs: 300n }),
    userappl: "ipft test",
    tracer: "function",
    machine: { host: m.host, bootId: m.bootId },
  });
  out.start({ symbolizer, verdicts: namer, ...(m.dropDetails ? { dropDetails: m.dropDetails } : {}) });
  if (m.unseen) out.noteUnseen(unseenFileFields(m.unseen));
  const dv = records(m.events, 8);
  const at = recordOffsets(m.events, 8);
  const ids = new PacketTracker();
  for (const off of at) out.write(dv, off, ids.of(dv, off));
  out.finish();
  return sink.bytes();
}

const dirs: string[] = [];

/** Removes the directories writeFiles made. */
export function removeFiles(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The files in a fresh directory, named NAME.pcapng: their paths (removeFiles() removes them). */
export function writeFiles(files: Record<string, Machine>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "ipft-merge-"));
  dirs.push(dir);
  return Object.entries(files).map(([name, m]) => {
    const path = join(dir, `${name}.pcapng`);
    writeFileSync(path, traceFile(m));
    return path;
  });
}
