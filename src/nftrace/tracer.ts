// --nft-trace: names the nftables rule, or the chain policy, that dropped a packet. It adds a table that
// turns nftables' tracing on for the selected packets (table.ts), listens to the trace events on a netlink
// socket in the traced namespace (message.ts), and when ipft sees a NETFILTER_DROP it reads what the socket
// holds (the event that dropped the packet was sent before the drop) and matches them (match.ts). The rule's
// text comes from `nft -a list chain`, once per chain. Everything it adds is removed by close().
import { statSync } from "node:fs";
import type { Explanation, Fact } from "../explain/explanation.js";
import { REASON_TEXT } from "../explain/reasons.js";
import { NETLINK_NETFILTER, NetlinkListener } from "../sys/netlink.js";
import { DropMatcher } from "./match.js";
import {
  FAMILY_NAMES,
  NFNLGRP_NFTRACE,
  parseTraceMessages,
  TRACE_POLICY,
  type TraceEvent,
} from "./message.js";
import { ChainLookup, runNft } from "./ruleset.js";
import { type TracedPackets, tableName, traceRuleset, traceTablePids } from "./table.js";

const READ_EVERY_MS = 100;

export interface NftTraceOptions extends TracedPackets {
  /** The network namespace to trace in (a path: /run/netns/NAME, /proc/PID/ns/net); undefined: ipft's. */
  netnsPath?: string;
  /** Every packet the table traces is one ipft selects: drops may be matched in order when they carry no
   * packet bytes. */
  selectedOnly: boolean;
}

/** Tables of iptables-nft: its tables by name, in families ip and ip6, with its chains in capitals. */
const IPTABLES_TABLES = new Set(["filter", "nat", "mangle", "raw", "security"]);
export const isIptablesTable = (family: string, table: string): boolean =>
  (family === "ip" || family === "ip6") && IPTABLES_TABLES.has(table);

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

const tryInode = (path: string): number | undefined => {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
};

export interface DropDetail {
  why: Explanation;
  place: string;
}

/** The explanation of a drop matched with trace event `e` (`chain`: what nft lists of its chain). */
export function explainTraced(
  e: TraceEvent,
  chain: { hook?: string; rules: Map<string, string> } | undefined,
): DropDetail {
  const family = FAMILY_NAMES[e.family] ?? String(e.family);
  const iptables = isIptablesTable(family, e.table);
  const facts: Fact[] = [
    { name: "table", value: `${family} ${e.table}${iptables ? " (iptables-nft's, by its name)" : ""}` },
    { name: "chain", value: e.chain },
    { name: "hook", value: chain?.hook ?? "unknown (nft could not list the chain)" },
  ];
  const what = `${family} ${e.table} ${e.chain}`;
  if (e.type === TRACE_POLICY) {
    facts.push({ name: "policy", value: "drop" });
    return {
      why: {
        cause: "NFT_POLICY",
        failure: true,
        text: `the ${iptables ? "iptables" : "nftables"} chain's policy dropped it: no rule of the chain decided first`,
        facts,
      },
      place: `nft chain ${what} policy`,
    };
  }
  const handle = e.handle === undefined ? "" : String(e.handle);
  facts.push({ name: "handle", value: handle });
  const text = handle && chain?.rules.get(handle);
  facts.push({ name: "rule", value: text || "unknown (not in nft's listing: removed since?)" });
  return {
    why: {
      cause: "NFT_RULE",
      failure: true,
      text: `${iptables ? "an iptables rule (iptables-nft)" : "an nftables rule"} dropped it`,
      facts,
    },
    place: `nft rule ${what} handle ${handle}`,
  };
}

/** Why no trace event matched a drop in namespace `netns` (0: not known) when ipft traces `traced`'s
 * nftables: another namespace's nftables dropped it (tracing is per namespace), or the packet was not
 * traced, or there were no bytes to match by. */
export function unmatchedWhy(
  netns: number,
  traced: number | undefined,
  withBytes: boolean,
  nameOf: (inode: number) => string,
  byMark = false,
): string {
  if (netns !== 0 && traced !== undefined && netns !== traced) {
    const there = nameOf(netns);
    return `the drop was in namespace ${there} and --nft-trace traces namespace ${nameOf(traced)}'s nftables: use --nft-trace=${there}`;
  }
  if (!withBytes) return "the event has no packet bytes to match by: add --snaplen 64";
  // A mark is cleared crossing a veth into another namespace: the table there sees the packet unmarked.
  return byMark
    ? "the packet was not traced: the trace table traces only packets with the selected mark, which a packet loses crossing a veth into another namespace (select it by a filter instead), or its events were lost"
    : "the packet was not traced: it did not go through the trace table's hooks, or its events were lost";
}

/** A NETFILTER_DROP no trace event was found for: what the reason says, and that the rule is not known. */
export function unmatched(why: string): DropDetail {
  return {
    why: {
      cause: "NETFILTER_DROP",
      failure: true,
      text: REASON_TEXT.NETFILTER_DROP!,
      facts: [{ name: "nft trace", value: `found no event of this drop (${why})` }],
    },
    place: "NETFILTER_DROP (no nft trace event matched)",
  };
}

export class NftTracer {
  private readonly matcher = new DropMatcher();
  private readonly details = new Map<string, DropDetail>();
  /** One explanation per rule or policy, shared by its drops. */
  private readonly byRule = new Map<string, DropDetail>();
  private readonly chains: ChainLookup;
  private added = false;
  /** Reads the socket between drops too, so that the events of packets that were not dropped do not fill
   * its buffer while no drop comes. */
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly listener: NetlinkListener,
    private readonly nft: readonly string[],
    readonly table: string,
    private readonly selectedOnly: boolean,
    /** The traced namespace's inode (undefined: it could not be read). */
    private readonly netns: number | undefined,
    /** Whether the table traces only packets with the selected mark. */
    private readonly byMark: boolean,
  ) {
    this.chains = new ChainLookup(nft);
    this.timer = setInterval(() => this.read(), READ_EVERY_MS).unref();
  }

  private read(): void {
    for (const d of this.listener.drain()) for (const e of parseTraceMessages(d)) this.matcher.add(e);
  }

  /** Removes tables of ipfts no longer running, listens, adds this run's table. `say` reports each. */
  static start(o: NftTraceOptions, say: (line: string) => void): NftTracer {
    const nft = o.netnsPath ? ["nsenter", `--net=${o.netnsPath}`, "nft"] : ["nft"];
    for (const pid of traceTablePids(runNft(nft, ["list", "tables"]))) {
      if (pid === process.pid || isAlive(pid)) continue;
      runNft(nft, ["delete", "table", "inet", tableName(pid)]);
      say(`removed nft table inet ${tableName(pid)} (left by an ipft that is no longer running)`);
    }
    const listener = NetlinkListener.open(NETLINK_NETFILTER, NFNLGRP_NFTRACE, o.netnsPath);
    const netns = tryInode(o.netnsPath ?? "/proc/self/ns/net");
    const t = new NftTracer(
      listener,
      nft,
      tableName(process.pid),
      o.selectedOnly,
      netns,
      o.mark !== undefined,
    );
    try {
      runNft(nft, ["-f", "-"], traceRuleset(process.pid, o));
      t.added = true;
    } catch (e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** A NETFILTER_DROP at timestamp (tsHi, tsLo) of the packet whose network header is `ip` (undefined: the
   * record has no packet bytes), in namespace `netns` (its inode; 0: not known): matched now, with the
   * events read so far. `nameOf` names a namespace, for a drop outside the traced one. */
  onDrop(
    tsHi: number,
    tsLo: number,
    ip: Uint8Array | undefined,
    netns = 0,
    nameOf: (inode: number) => string = String,
  ): void {
    this.read();
    const e = this.matcher.take(ip, this.selectedOnly);
    let detail: DropDetail | undefined;
    if (e) {
      const family = FAMILY_NAMES[e.family] ?? String(e.family);
      const handle = e.handle === undefined ? undefined : String(e.handle);
      const key = `${family} ${e.table} ${e.chain} ${e.type} ${handle}`;
      detail = this.byRule.get(key);
      if (!detail) {
        detail = explainTraced(e, this.chains.get(family, e.table, e.chain, handle));
        this.byRule.set(key, detail);
      }
    } else detail = unmatched(unmatchedWhy(netns, this.netns, ip !== undefined, nameOf, this.byMark));
    this.details.set(`${tsHi}:${tsLo}`, detail);
  }

  get(tsHi: number, tsLo: number): DropDetail | undefined {
    return this.details.get(`${tsHi}:${tsLo}`);
  }

  /** Trace events the socket could not take (its buffer was full). */
  get overruns(): number {
    return this.listener.overruns;
  }

  close(): void {
    clearInterval(this.timer);
    if (this.added) {
      this.added = false;
      try {
        runNft(this.nft, ["delete", "table", "inet", this.table]);
      } finally {
        this.listener.close();
      }
    } else this.listener.close();
  }
}
