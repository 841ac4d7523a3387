// What nft says about a chain, looked up once per chain, off the event path: its hook and policy, and each
// rule's text by handle as `nft -a list chain` prints it. Run in the traced namespace.
import { spawnSync } from "node:child_process";
import { UserError } from "../core/errors.js";

export interface ChainListing {
  hook?: string;
  policy?: string;
  /** Each rule's text (without its `# handle N`), by handle. */
  rules: Map<string, string>;
}

/** Parses `nft -a list chain FAMILY TABLE CHAIN`'s output. */
export function parseChainListing(text: string): ChainListing {
  const out: ChainListing = { rules: new Map() };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const base = /^type \S+ hook (\S+) .*?policy (\w+);/.exec(line);
    if (base) {
      out.hook = base[1]!;
      out.policy = base[2]!;
      continue;
    }
    const rule = /^(.*\S)\s+# handle (\d+)$/.exec(line);
    if (rule && !rule[1]!.startsWith("chain ") && !rule[1]!.startsWith("table "))
      out.rules.set(rule[2]!, rule[1]!);
  }
  return out;
}

/** Runs nft with `args` (argv before them: `nft`, or nsenter into a namespace), or throws with its error. */
export function runNft(nft: readonly string[], args: readonly string[], input?: string): string {
  const r = spawnSync(nft[0]!, [...nft.slice(1), ...args], {
    encoding: "utf8",
    timeout: 10_000,
    ...(input !== undefined ? { input } : {}),
  });
  if (r.error)
    throw new UserError(`--nft-trace: ${nft.join(" ")}: ${r.error.message} (is nftables installed?)`);
  if (r.status !== 0) {
    const why = (r.stderr || "").trim().split("\n")[0] || `exit status ${r.status}`;
    throw new UserError(`--nft-trace: nft ${args.join(" ")}: ${why}`);
  }
  return r.stdout;
}

export class ChainLookup {
  private readonly cache = new Map<string, ChainListing | undefined>();
  constructor(private readonly nft: readonly string[]) {}

  /** The chain's listing (undefined when nft could not list it: the chain is gone, nft is missing). A rule
   * not in a cached listing (added since) lists the chain again once. */
  get(family: string, table: string, chain: string, handle?: string): ChainListing | undefined {
    const key = `${family} ${table} ${chain}`;
    const had = this.cache.get(key);
    if (had && (handle === undefined || had.rules.has(handle))) return had;
    if (this.cache.has(key) && had === undefined) return undefined;
    let got: ChainListing | undefined;
    try {
      got = parseChainListing(runNft(this.nft, ["-a", "list", "chain", family, table, chain]));
    } catch {
      got = had;
    }
    this.cache.set(key, got);
    return got;
  }
}
