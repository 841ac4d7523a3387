// The table ipft adds to turn nftables' tracing on for the packets it traces: `table inet ipft_trace_PID`,
// one chain at prerouting and one at output, at priority -500 (before every usual chain: raw is -300,
// conntrack -200), each setting `meta nftrace set 1` on the selected packets. Named by ipft's pid, so a
// table left by an ipft that was killed (SIGKILL) is recognised and removed at the next start.
export const TABLE_PREFIX = "ipft_trace_";
const PRIORITY = -500;

export interface TracedPackets {
  /** Trace only packets whose mark & mask == mark (undefined: every packet). */
  mark?: { mark: number; mask: number };
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The packets the table traces, in nft's words. */
export function tracedCondition(p: TracedPackets): string {
  if (!p.mark) return "";
  const { mark, mask } = p.mark;
  return mask >>> 0 === 0xffffffff ? `meta mark ${hex(mark)}` : `meta mark and ${hex(mask)} == ${hex(mark)}`;
}

/** The table's name for process `pid`. */
export const tableName = (pid: number): string => `${TABLE_PREFIX}${pid}`;

/** The ruleset that adds the table (for `nft -f -`). */
export function traceRuleset(pid: number, p: TracedPackets): string {
  const cond = tracedCondition(p);
  const set = `${cond ? `${cond} ` : ""}meta nftrace set 1`;
  return [
    `table inet ${tableName(pid)} {`,
    `  chain prerouting { type filter hook prerouting priority ${PRIORITY}; ${set}; }`,
    `  chain output { type filter hook output priority ${PRIORITY}; ${set}; }`,
    "}",
    "",
  ].join("\n");
}

/** The pids of the trace tables in `nft list tables` output (family inet only: the only one ipft adds). */
export function traceTablePids(listing: string): number[] {
  const out: number[] = [];
  for (const m of listing.matchAll(/^table inet ipft_trace_(\d+)$/gm)) out.push(Number(m[1]));
  return out;
}
