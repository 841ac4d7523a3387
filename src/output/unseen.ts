// What the trace could not see, said once at its end: events the ring buffer lost, program runs the kernel
// skipped, attach points that failed, packets the tracking table let go. Each part only when non-zero; a
// count the kernel does not keep is undefined, never a zero.

/** The counts, read after tracing (session/unseen-counts.ts) or from a trace file's statistics. */
export interface Unseen {
  /** Events the ring buffer had no room for. */
  lost: number;
  /** Program runs the kernel skipped (recursion misses, kprobe misses); undefined: not counted here. */
  skipped?: number;
  /** Attach points that failed. */
  failed: number;
  /** The first few failures, `name: ERRNO`. */
  failedFirst: string[];
  /** Packets the tracking table pushed out before their verdict; undefined: no tracking. */
  letGo?: number;
  /** The table's size (--track-max), said with letGo. */
  trackMax?: number;
}

/** Failures named in the line; -v lists every one. */
export const FAILED_NAMED = 3;

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The line (`Not seen: ...`), or undefined when nothing was missed. */
export function unseenLine(u: Unseen): string | undefined {
  const parts: string[] = [];
  if (u.lost > 0)
    parts.push(
      `${count(u.lost, "event", "events")} lost (the ring buffer was full: a larger --ring-size, or fewer attach points)`,
    );
  if (u.skipped !== undefined && u.skipped > 0)
    parts.push(
      `${count(u.skipped, "program run", "program runs")} skipped by the kernel (recursion: a traced point was hit while a BPF program already ran on that CPU)`,
    );
  if (u.failed > 0) {
    const more = u.failed - u.failedFirst.length;
    const named = u.failedFirst.join(", ") + (more > 0 ? ` and ${more} more` : "");
    parts.push(
      `${count(u.failed, "attach point", "attach points")} failed (${named ? `${named}; ` : ""}-v lists them)`,
    );
  }
  if (u.letGo !== undefined && u.letGo > 0)
    parts.push(
      `${count(u.letGo, "packet", "packets")} let go by the tracking table (full at --track-max ${u.trackMax}: followed no further; a larger --track-max keeps more)`,
    );
  return parts.length > 0 ? `Not seen: ${parts.join(", ")}` : undefined;
}

/** What a trace file keeps beside isb_ifdrop (which holds `lost`): the other counts, only those that are
 * non-zero; undefined when there are none (the file stays as it was without them). */
export function unseenFileFields(u: Unseen): Record<string, unknown> | undefined {
  const f: Record<string, unknown> = {};
  if (u.skipped) f.runs_skipped = u.skipped;
  if (u.failed > 0) {
    f.attach_failed = u.failed;
    f.attach_failed_first = u.failedFirst;
  }
  if (u.letGo) {
    f.let_go = u.letGo;
    f.track_max = u.trackMax;
  }
  return Object.keys(f).length > 0 ? { unseen: f } : undefined;
}

/** The counts back from a trace file: `lost` from isb_ifdrop, the rest from the statistics' "ipft:" fields. */
export function unseenFromFile(lost: number, meta: Record<string, unknown> | undefined): Unseen {
  const f = meta?.unseen;
  const o = f && typeof f === "object" ? (f as Record<string, unknown>) : {};
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);
  const first = Array.isArray(o.attach_failed_first)
    ? o.attach_failed_first.filter((x): x is string => typeof x === "string")
    : [];
  return {
    lost,
    skipped: num(o.runs_skipped),
    failed: num(o.attach_failed) ?? 0,
    failedFirst: first,
    letGo: num(o.let_go),
    trackMax: num(o.track_max),
  };
}

/** The events lost, read back from ipft's stderr (benches and tests): this line's count, or an older
 * build's `Lost N traces`; 0 when neither is there. */
export function lostFromStderr(text: string): number {
  const m = /^Not seen: (\d+) events? lost/m.exec(text) ?? /Lost (\d+) traces/.exec(text);
  return Number(m?.[1] ?? 0);
}
