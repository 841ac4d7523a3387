// The packets being tracked: an LRU hash from skb address to track id and fingerprint (program/track-map.ts), which every main program shares,
// and per-CPU counters of the packets put in (selected), ended (at their verdict) and found stale. An LRU
// map evicts silently when full, so what it evicted is what neither ended, went stale, nor is still live in
// it at the end (ended entries stay until their address is reused or the map needs room).

import {
  TRACK_COUNTERS,
  TRACK_ENDED,
  TRACK_INSERTED,
  TRACK_LATE_FREED,
  TRACK_STALE,
  TRACK_VALUE_FUNC,
  TRACK_VALUE_HEAD,
  TRACK_VALUE_SIZE,
  type TrackSpec,
} from "../program/track-map.js";
import { possibleCpus } from "../ringbuf/lost-counter.js";
import { createMap, getNextKey, lookupElem } from "../sys/bpf.js";
import { MapType } from "../sys/bpf-abi.js";
import { close } from "../sys/libc.js";
import type { Built } from "./build.js";
import type { SessionIo } from "./io.js";

export const DEFAULT_TRACK_MAX = 65536;

export interface TrackCounts {
  /** Packets selected and followed from then on. */
  tracked: number;
  /** Of those, the ones whose verdict was seen. */
  ended: number;
  /** Still in the table when tracing stopped (in flight, or freed where no verdict tracepoint fires). */
  live: number;
  /** Entries an earlier packet left behind (freed where no tracepoint saw it), found and taken out. */
  stale: number;
  /** Pushed out because the table was full: those stopped being followed before their verdict. */
  evicted: number;
  /** Not started at their late free (plan/late-free.ts): delivered before tracing began. */
  lateFreed: number;
  /** The packets without a verdict (live and stale) by the function (or tracepoint id) they were last seen at. */
  lastSeen: Map<bigint, number>;
}

/** Functions the last-seen counters name at most (a packet last seen elsewhere is not named). */
const LAST_SEEN_MAX = 4096;

export class TrackTable {
  readonly mapFd: number;
  readonly countFd: number;
  readonly lastSeenFd: number;

  constructor(readonly maxEntries: number = DEFAULT_TRACK_MAX) {
    const fds: number[] = [];
    try {
      fds.push(
        createMap({
          type: MapType.LRU_HASH,
          keySize: 8,
          valueSize: TRACK_VALUE_SIZE,
          maxEntries,
          name: "ipft_track",
        }),
      );
      fds.push(
        createMap({
          type: MapType.PERCPU_ARRAY,
          keySize: 4,
          valueSize: 8,
          maxEntries: TRACK_COUNTERS,
          name: "ipft_track_n",
        }),
      );
      fds.push(
        createMap({
          type: MapType.HASH,
          keySize: 8,
          valueSize: 8,
          maxEntries: LAST_SEEN_MAX,
          name: "ipft_lastseen",
        }),
      );
    } catch (e) {
      for (const fd of fds) close(fd);
      throw e;
    }
    [this.mapFd, this.countFd, this.lastSeenFd] = fds as [number, number, number];
  }

  get spec(): TrackSpec {
    return { mapFd: this.mapFd, countFd: this.countFd, lastSeenFd: this.lastSeenFd };
  }

  private counter(idx: number): number {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, idx, true);
    const v = new BigUint64Array(possibleCpus());
    if (!lookupElem(this.countFd, key, new Uint8Array(v.buffer))) return 0;
    let sum = 0n;
    for (const x of v) sum += x;
    return Number(sum);
  }

  /** The packets in the table now, not ended, by the function each was last seen at (two syscalls per
   * entry: read once, after tracing). */
  private liveByFunc(): Map<bigint, number> {
    const by = new Map<bigint, number>();
    let seen = 0;
    let key: Uint8Array | null = null;
    const next = new Uint8Array(8);
    const value = new Uint8Array(TRACK_VALUE_SIZE);
    const dv = new DataView(value.buffer);
    while (getNextKey(this.mapFd, key, next) && seen++ <= this.maxEntries) {
      key = next.slice();
      if (!lookupElem(this.mapFd, key, value) || dv.getBigUint64(TRACK_VALUE_HEAD, true) === 0n) continue;
      const f = dv.getBigUint64(TRACK_VALUE_FUNC, true);
      by.set(f, (by.get(f) ?? 0) + 1);
    }
    return by;
  }

  /** Packets that ended unseen (found stale), by the function each was last seen at. */
  private staleByFunc(): Map<bigint, number> {
    const by = new Map<bigint, number>();
    let key: Uint8Array | null = null;
    const next = new Uint8Array(8);
    const value = new Uint8Array(8);
    const dv = new DataView(value.buffer);
    let n = 0;
    while (getNextKey(this.lastSeenFd, key, next) && n++ <= LAST_SEEN_MAX) {
      key = next.slice();
      if (lookupElem(this.lastSeenFd, key, value))
        by.set(new DataView(key.buffer).getBigUint64(0, true), Number(dv.getBigUint64(0, true)));
    }
    return by;
  }

  private counted: TrackCounts | undefined;

  /** Read once, after tracing (the table is walked entry by entry). */
  counts(): TrackCounts {
    this.counted ??= this.count();
    return this.counted;
  }

  private count(): TrackCounts {
    const tracked = this.counter(TRACK_INSERTED);
    const ended = this.counter(TRACK_ENDED);
    const stale = this.counter(TRACK_STALE);
    const lastSeen = this.staleByFunc();
    const liveBy = this.liveByFunc();
    let live = 0;
    for (const [f, n] of liveBy) {
      live += n;
      lastSeen.set(f, (lastSeen.get(f) ?? 0) + n);
    }
    const lateFreed = this.counter(TRACK_LATE_FREED);
    return {
      tracked,
      ended,
      live,
      stale,
      evicted: Math.max(0, tracked - ended - stale - live),
      lateFreed,
      lastSeen,
    };
  }

  close(): void {
    close(this.lastSeenFd);
    close(this.countFd);
    close(this.mapFd);
  }
}

/** What tracking follows on this run's backends (said with -v); `clones`: where clones are followed
 * (CloneFollower's note), absent when they are not. */
export function trackingNote(built: Built, clones?: string): string {
  const names = built.backends.map((b) => b.backend.name).join(" and ");
  return (
    `tracking (${names}): a selected packet is followed by its skb address at every later point until ` +
    "kfree_skb or consume_skb; " +
    (clones
      ? `a clone or copy of it is followed too, under its own track id with a link to its parent, from its making ${clones}`
      : "a clone or copy (skb_clone, skb_copy, pskb_copy) is another skb, followed only if it is selected itself")
  );
}

/** After tracing: how many packets were followed (-v); those the table let go are in the "Not seen" line. */
export function reportTracking(t: TrackTable, io: SessionIo): void {
  const c = t.counts();
  io.verbose(
    `tracked ${c.tracked} packets: ${c.ended} to their verdict, ${c.live} still in the table when tracing stopped, ${c.stale} ended unseen (their entry found stale), ${c.evicted} pushed out of the table`,
  );
  if (c.lateFreed > 0)
    io.verbose(
      `left out ${c.lateFreed} packet${c.lateFreed === 1 ? "" : "s"} freed late: delivered to a socket before tracing began, their memory returned to the CPU that made them during it (docs/output.md)`,
    );
}
