// The kernel's own counts of program runs it skipped, read once after tracing (no cost per event): each
// program's recursion_misses (5.12+ for fentry/fexit; later kernels count more program types, kprobes from
// 6.7) and each kprobe link's missed count (6.7+: a probe hit while another probe ran on that CPU).
import { release } from "node:os";
import { FAILED_NAMED, type Unseen } from "../output/unseen.js";
import { kprobeLinkMissed, progRecursionMisses } from "../sys/bpf.js";
import type { TrackTable } from "./track-table.js";

/** Whether `rel` (a kernel release, `6.12.0-1-amd64`) is at least major.minor. */
export function releaseAtLeast(rel: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

export interface Skipped {
  /** undefined: no program or link here has a count the kernel keeps. */
  count?: number;
  /** What was read, for -v. */
  from: string[];
}

/** Kprobe links' missed counts: read before the links close (the count goes with the link). The slot is
 * filled from 6.7 on; before, it reads 0, so it is not read at all. */
export function kprobeMisses(linkFds: readonly number[], rel = release()): Skipped {
  if (!releaseAtLeast(rel, 6, 7)) return { from: [] };
  return summed(linkFds, kprobeLinkMissed, "kprobe misses", "links");
}

/** Programs' recursion misses (programs stay loaded after their links close). */
export function recursionMisses(progFds: readonly number[]): Skipped {
  return summed(progFds, progRecursionMisses, "recursion misses", "programs");
}

/** The counts `read` gives for the objects that have one, summed; none counted: no count. */
function summed(
  fds: readonly number[],
  read: (fd: number) => number | undefined,
  what: string,
  of: string,
): Skipped {
  let sum = 0;
  let counted = 0;
  for (const fd of fds) {
    const n = read(fd);
    if (n === undefined) continue;
    sum += n;
    counted++;
  }
  return counted > 0 ? { count: sum, from: [`${sum} ${what} over ${counted} ${of}`] } : { from: [] };
}

/** Both together: undefined only when neither is counted. */
export function skippedRuns(a: Skipped, b: Skipped): Skipped {
  const count = a.count === undefined && b.count === undefined ? undefined : (a.count ?? 0) + (b.count ?? 0);
  return { count, from: [...a.from, ...b.from] };
}

/** After detaching: everything the trace missed (output/unseen.ts), and the -v line on the skipped runs.
 * `probeMisses`: kprobeMisses(), read before the links closed; `failures`: `name: ERRNO` per attach point. */
export function countUnseen(o: {
  lost: number;
  probeMisses: Skipped;
  progFds: readonly number[];
  failures: readonly string[];
  track: TrackTable | undefined;
}): { unseen: Unseen; note: string } {
  const skipped = skippedRuns(recursionMisses(o.progFds), o.probeMisses);
  return {
    unseen: {
      lost: o.lost,
      skipped: skipped.count,
      failed: o.failures.length,
      failedFirst: o.failures.slice(0, FAILED_NAMED),
      letGo: o.track?.counts().evicted,
      trackMax: o.track?.maxEntries,
    },
    note: `runs the kernel skipped: ${skipped.count === undefined ? "not counted by this kernel" : skipped.from.join(", ")}`,
  };
}
