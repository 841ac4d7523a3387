// Test helpers: records laid out as the eBPF program writes them, and a writer run into strings.
import { explainDrop } from "../../src/explain/explanation.js";
import {
  createWriter,
  type DropDetails,
  type Dumper,
  type KernelPacketCounts,
  type Layout,
  numbered,
  type OutputName,
  PacketTracker,
  type StackNamer,
  type Symbolizer,
  type TimeColumn,
  type VerdictNamer,
} from "../../src/output/index.js";
import { DROP_FACTS_SIZE, SOCK_NONE, SOCK_READ } from "../../src/record/parts/drop-facts.js";
import { IDENTITY_SIZE } from "../../src/record/parts/identity.js";
import {
  FLAG_CLONE,
  FLAG_DEVICE,
  FLAG_DROP_FACTS,
  FLAG_FREEING,
  FLAG_IDENTITY,
  FLAG_RETURN,
} from "../../src/record/record.js";

export interface Ev {
  skb: bigint;
  ts: bigint;
  func: bigint;
  cpu: number;
  ret?: boolean;
  /** A point of the skb's free path (FLAG_FREEING). */
  freeing?: boolean;
  /** The first data byte (the rest of the 64 are its index in the run). */
  data?: number;
  /** A verdict event: VERDICT_DROP or VERDICT_CONSUME, with its reason and location. */
  verdict?: { kind: number; reason?: number; location?: bigint };
  /** --snaplen's packet bytes, with the length from their start and where they start (record.ts). */
  packet?: { bytes: number[]; wireLen: number; link?: number };
  /** --stack's return addresses. */
  stack?: bigint[];
  /** The track id (tracking on: the packet's first-seen time). */
  track?: bigint;
  /** A clone event: the parent's address (record.ts FLAG_CLONE). */
  parent?: bigint;
  /** -w's device part (record.ts FLAG_DEVICE). */
  device?: { ifindex: number; netns: number; name: string };
  /** The identity part (record.ts FLAG_IDENTITY): the packet's first bytes and its device. */
  identity?: {
    bytes: number[];
    link?: number;
    device: { ifindex: number; netns: number; name: string };
    mark?: number;
  };
  /** A drop's drop-facts part (record.ts FLAG_DROP_FACTS): its device and network header bytes. */
  dropFacts?: {
    ifindex: number;
    netns: number;
    name: string;
    mtu: number;
    network: number[];
    /** The socket kfree_skb gave (drop-facts.ts SOCK_READ), at +96. */
    sock?: { port: number; address: number[]; rcvbuf: number; queued: number; inode: number };
  };
}

/** The bytes a record takes: 128, its device part, its packet bytes padded to 8, 8 per return address. */
export const evLength = (e: Ev): number =>
  devLength(e) + (((e.packet?.bytes.length ?? 0) + 7) & ~7) + 8 * (e.stack?.length ?? 0);

/** Where a record's packet bytes start: after the device, identity and drop-facts parts when it has them. */
const devLength = (e: Ev): number =>
  128 + (e.device ? 24 : 0) + (e.identity ? IDENTITY_SIZE : 0) + (e.dropFacts ? DROP_FACTS_SIZE : 0);

/** A device part's 24 bytes at `at`. */
function setDevice(dv: DataView, at: number, d: { ifindex: number; netns: number; name: string }): void {
  dv.setUint32(at, d.ifindex, true);
  dv.setUint32(at + 4, d.netns, true);
  Buffer.from(d.name, "latin1").forEach((b, k) => {
    dv.setUint8(at + 8 + k, b);
  });
}

/** Where each record starts in records(evs, pad). */
export function recordOffsets(evs: Ev[], pad = 0): number[] {
  const out: number[] = [];
  let o = pad;
  for (const e of evs) {
    out.push(o);
    o += evLength(e);
  }
  return out;
}

/** Records one after another in one buffer, after `pad` bytes (so offsets are not all zero). */
export function records(evs: Ev[], pad = 0): DataView {
  const at = recordOffsets(evs, pad);
  const dv = new DataView(new ArrayBuffer(pad + evs.reduce((n, e) => n + evLength(e), 0)));
  evs.forEach((e, i) => {
    const o = at[i]!;
    dv.setBigUint64(o, e.skb, true);
    dv.setBigUint64(o + 8, e.ts, true);
    dv.setBigUint64(o + 16, e.func, true);
    dv.setUint32(o + 24, e.cpu, true);
    dv.setUint32(
      o + 28,
      (e.ret ? FLAG_RETURN : 0) |
        (e.parent !== undefined ? FLAG_CLONE : 0) |
        (e.freeing ? FLAG_FREEING : 0) |
        (e.device ? FLAG_DEVICE : 0) |
        (e.identity ? FLAG_IDENTITY : 0) |
        (e.dropFacts ? FLAG_DROP_FACTS : 0),
      true,
    );
    if (e.identity) {
      const at = o + 128 + (e.device ? 24 : 0);
      dv.setUint16(at, e.identity.bytes.length, true);
      dv.setUint8(at + 2, e.identity.link ?? 0);
      dv.setUint8(at + 3, 1);
      dv.setUint32(at + 4, e.identity.bytes.length, true);
      setDevice(dv, at + 8, e.identity.device);
      dv.setUint32(at + 32, e.identity.mark ?? 0, true);
      e.identity.bytes.forEach((b, k) => {
        dv.setUint8(at + 40 + k, b);
      });
    }
    if (e.device) {
      dv.setUint32(o + 128, e.device.ifindex, true);
      dv.setUint32(o + 132, e.device.netns, true);
      Buffer.from(e.device.name, "latin1").forEach((b, k) => {
        dv.setUint8(o + 136 + k, b);
      });
    }
    if (e.dropFacts) {
      const f = o + 128 + (e.device ? 24 : 0) + (e.identity ? IDENTITY_SIZE : 0);
      dv.setUint32(f, e.dropFacts.ifindex, true);
      dv.setUint32(f + 4, e.dropFacts.netns, true);
      Buffer.from(e.dropFacts.name, "latin1").forEach((b, k) => {
        dv.setUint8(f + 8 + k, b);
      });
      dv.setUint32(f + 24, e.dropFacts.mtu, true);
      dv.setUint16(f + 28, e.dropFacts.network.length, true);
      e.dropFacts.network.forEach((b, k) => {
        dv.setUint8(f + 32 + k, b);
      });
      const k = e.dropFacts.sock;
      dv.setUint8(f + 96, k ? SOCK_READ : SOCK_NONE);
      if (k) {
        dv.setUint16(f + 98, k.address.length === 16 ? 10 : 2, true);
        dv.setUint16(f + 100, k.port, true);
        dv.setInt32(f + 104, k.rcvbuf, true);
        dv.setInt32(f + 108, k.queued, true);
        dv.setUint32(f + 116, k.inode, true);
        k.address.forEach((b, j) => {
          dv.setUint8(f + 120 + j, b);
        });
      }
    }
    if (e.parent !== undefined) dv.setBigUint64(o + 40, e.parent, true);
    if (e.verdict) {
      dv.setUint32(o + 32, e.verdict.kind, true);
      dv.setUint32(o + 36, e.verdict.reason ?? 0, true);
      dv.setBigUint64(o + 40, e.verdict.location ?? 0n, true);
    }
    if (e.packet) {
      dv.setUint32(o + 48, e.packet.wireLen, true);
      dv.setUint16(o + 52, e.packet.bytes.length, true);
      dv.setUint8(o + 54, e.packet.link ?? 0);
      e.packet.bytes.forEach((b, k) => {
        dv.setUint8(o + devLength(e) + k, b);
      });
    }
    if (e.stack) {
      dv.setUint8(o + 55, e.stack.length);
      const s = o + devLength(e) + (((e.packet?.bytes.length ?? 0) + 7) & ~7);
      e.stack.forEach((a, k) => {
        dv.setBigUint64(s + 8 * k, a, true);
      });
    }
    if (e.track !== undefined) dv.setBigUint64(o + 56, e.track, true);
    for (let k = 0; k < 64; k++) dv.setUint8(o + 64 + k, (i + k) & 0xff);
    if (e.data !== undefined) dv.setUint8(o + 64, e.data);
  });
  return dv;
}

export const LONG_MODULE = "a_module_name_longer_than_24_chars";
export const LONG_FUNC = "a_function_name_longer_than_thirty_two_characters";

export const NAMES = new Map<bigint, { name: string; module: string }>([
  [0xffffffff81000010n, { name: "ip_rcv", module: "vmlinux" }],
  [0xffffffff81000020n, { name: "udp_rcv", module: "vmlinux" }],
  [0xffffffffc0001000n, { name: LONG_FUNC, module: LONG_MODULE }],
  [0xffffffffc0002000n, { name: 'we"ird\\name', module: "m\tod" }],
  [7n, { name: "netif_receive_skb", module: "vmlinux" }],
  [8n, { name: "skb_copy_datagram_iovec", module: "vmlinux" }],
  [0xffffffff81000030n, { name: "skb_copy_datagram_iter", module: "vmlinux" }],
]);
export const IP_RCV = 0xffffffff81000010n;
export const UDP_RCV = 0xffffffff81000020n;
export const LONG = 0xffffffffc0001000n;
export const WEIRD = 0xffffffffc0002000n;
export const TP = 7n;
/** Where data is copied to user space: the tracepoint (an id) and the function that fires it. */
export const COPY_TP = 8n;
export const COPY_FN = 0xffffffff81000030n;

/** One record of each naming case: known names (one a return), long names, names to escape, an unknown address. */
export const NAMING_EVS: Ev[] = [
  { skb: 0xffff888012345678n, ts: 2509333321124n, func: IP_RCV, cpu: 1 },
  { skb: 0xffff888012345678n, ts: 2509333321200n, func: UDP_RCV, cpu: 1, ret: true },
  { skb: 0x10n, ts: 3n, func: LONG, cpu: 130 },
  { skb: 0x20n, ts: 4n, func: WEIRD, cpu: 2 },
  { skb: 0x30n, ts: 5n, func: 0x99n, cpu: 3 },
];

export const symbolizer: Symbolizer = { resolve: (a) => NAMES.get(a) };

/** Drop reasons and locations as a kernel would name them (made up: reasons are the kernel's to number). */
export const namer: VerdictNamer = {
  reason: (v) => ({ 3: "NO_SOCKET", 9: "NETFILTER_DROP", 77: "QUEUE_PURGE" })[v] ?? String(v),
  location: (a) =>
    a >= PING_RCV
      ? `ping_rcv+0x${(a - PING_RCV).toString(16)}`
      : a >= 0xffffffff81100000n
        ? `__udp4_lib_rcv+0x${(a - 0xffffffff81100000n).toString(16)}`
        : `0x${a.toString(16)}`,
};
export const UDP_LIB_RCV = 0xffffffff81100000n;
export const PING_RCV = 0xffffffff81200000n;
/** What a NO_SOCKET drop at __udp4_lib_rcv says after its verdict (explain/; pinned in test/explain). */
export const UDP_WHY = explainDrop("NO_SOCKET", "__udp4_lib_rcv")!.text;
export const UDP_CAUSE = `Cause: ${UDP_WHY}`;
export const UDP_WHY_LINE = `  NO_SOCKET: ${UDP_WHY}`;

export interface RunOptions {
  dumper?: Dumper;
  maxTraces?: number;
  graph?: boolean;
  progress?: boolean;
  verdicts?: boolean;
  dropsOnly?: boolean;
  stacks?: StackNamer;
  kernelCounts?: () => KernelPacketCounts;
  dropDetails?: DropDetails;
  /** The writer reads the numbering tracker (as a live run's does) instead of tracking on its own. */
  shareTracker?: boolean;
  /** false: the writer's identity option off. */
  identity?: boolean;
  /** Default ipftrace2: the columns these tests are about, without the times ipft adds (time.test.ts). */
  layout?: Layout;
  time?: TimeColumn;
}

/** Feeds every record to a fresh writer, then finish() and the dump() failure report. */
export function run(kind: OutputName, evs: Ev[], o: RunOptions = {}) {
  let out = "";
  let err = "";
  const writes: string[] = [];
  const ids = new PacketTracker();
  const w = createWriter(kind, {
    out: {
      write: (s: string) => {
        out += s;
        writes.push(s);
      },
    },
    err: { write: (s: string) => (err += s) },
    symbolizer,
    progress: o.progress ?? false,
    ...(o.dumper ? { dumper: o.dumper } : {}),
    ...(o.maxTraces !== undefined ? { maxTraces: o.maxTraces } : {}),
    ...(o.graph ? { graph: true } : {}),
    ...(o.verdicts || o.dropsOnly ? { verdicts: namer } : {}),
    ...(o.dropsOnly ? { dropsOnly: true } : {}),
    ...(o.stacks ? { stacks: o.stacks } : {}),
    ...(o.kernelCounts ? { kernelCounts: o.kernelCounts } : {}),
    ...(o.dropDetails ? { dropDetails: o.dropDetails } : {}),
    ...(o.shareTracker ? { numbering: ids } : {}),
    identity: o.identity ?? true,
    layout: o.layout ?? "ipftrace2",
    ...(o.time ? { time: o.time } : {}),
  });
  const pad = 40;
  const dv = records(evs, pad);
  const feed = numbered(w, ids);
  for (const off of recordOffsets(evs, pad)) feed(dv, off);
  w.finish();
  w.report({ write: (s: string) => (err += s) });
  return { out, err, w, writes };
}

/** A u64 beyond 2^53 (a double cannot hold it) and the largest u64. */
export const BIG_TS = 2n ** 60n + 3n;
export const MAX_U64 = 2n ** 64n - 1n;

/** C's %W.Ws and %-W.Ws, written out independently of the code under test. */
export const rightIn = (s: string, w: number) => " ".repeat(Math.max(0, w - s.length)) + s.substring(0, w);
export const leftIn = (s: string, w: number) => s.substring(0, w) + " ".repeat(Math.max(0, w - s.length));
