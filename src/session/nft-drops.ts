// Drops by netfilter (NETFILTER_DROP): with --nft-trace, each is matched with the nftables trace event that
// dropped it (nftrace/) before the writers see it, so they print the rule; without it, one hint names the flag.

import { NamespaceNames } from "../identity/namespace-names.js";
import { networkHeader } from "../nftrace/match.js";
import { NftTracer } from "../nftrace/tracer.js";
import type { CreatedWriter, DropDetails } from "../output/index.js";
import { packetBytes, readDropFacts } from "../record/parts/index.js";
import {
  HIGH_WORD,
  LINK_NETWORK,
  OFF_TSTAMP,
  readCapLen,
  readLink,
  readReason,
  readVerdict,
  VERDICT_DROP,
} from "../record/record.js";
import type { SessionConfig } from "./config.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";

export class NftDrops {
  private hinted = false;
  private readonly names = new NamespaceNames();

  private constructor(
    private readonly reason: number | undefined,
    private readonly tracer: NftTracer | undefined,
    private readonly io: SessionIo,
  ) {}

  /** With --nft-trace, adds the trace table (named in the output) and listens; owned by `kobj`. */
  static start(config: SessionConfig, kernel: KernelView, io: SessionIo, kobj: KernelObjects): NftDrops {
    let reason: number | undefined;
    for (const [name, v] of kernel.btf.enumValues("skb_drop_reason"))
      if (name === "SKB_DROP_REASON_NETFILTER_DROP") reason = Number(v);
    if (reason === undefined || config.verdicts === false || !config.nftTrace)
      return new NftDrops(reason, undefined, io);
    const markOnly =
      config.markTest !== false &&
      !config.filter &&
      config.ifname === undefined &&
      config.ifindex === undefined;
    const tracer = kobj.own(
      NftTracer.start(
        {
          ...(config.nftTrace.netnsPath !== undefined ? { netnsPath: config.nftTrace.netnsPath } : {}),
          ...(config.markTest !== false ? { mark: { mark: config.mark, mask: config.mask } } : {}),
          selectedOnly: markOnly,
        },
        (l) => io.err(l),
      ),
    );
    const where = config.nftTrace.netnsName ? ` in ${config.nftTrace.netnsName}` : "";
    const what = config.markTest !== false ? "packets with the selected mark" : "every packet";
    io.err(`added nft table inet ${tracer.table}${where}: traces ${what} (removed at exit)`);
    return new NftDrops(reason, tracer, io);
  }

  /** What the writers read a drop's rule from (with --nft-trace). */
  get details(): DropDetails | undefined {
    return this.tracer;
  }

  /** `w`, seeing each netfilter drop first. */
  wrap(w: CreatedWriter): CreatedWriter {
    if (this.reason === undefined) return w;
    const write = (dv: DataView, off: number, packet: number) => {
      if (readVerdict(dv, off) === VERDICT_DROP && readReason(dv, off) === this.reason) this.onDrop(dv, off);
      w.write(dv, off, packet);
    };
    return {
      write,
      finish: () => w.finish(),
      get count() {
        return w.count;
      },
      get overflow() {
        return w.overflow;
      },
      get events() {
        return w.events;
      },
      report: (err) => w.report(err),
      summary: () => w.summary(),
    };
  }

  private onDrop(dv: DataView, off: number): void {
    if (!this.tracer) {
      if (!this.hinted)
        this.io.err(
          "a packet was dropped by netfilter (NETFILTER_DROP): --nft-trace names the nftables rule or chain policy that dropped it",
        );
      this.hinted = true;
      return;
    }
    // The drop's own facts keep its network header too: they match when the event has no packet bytes.
    const facts = readDropFacts(dv, off);
    const ip =
      readCapLen(dv, off) > 0
        ? networkHeader(packetBytes(dv, off), readLink(dv, off) === LINK_NETWORK)
        : facts && facts.network.length > 0
          ? facts.network
          : undefined;
    const ts = off + OFF_TSTAMP;
    this.tracer.onDrop(dv.getUint32(ts + HIGH_WORD, true), dv.getUint32(ts, true), ip, facts?.netns, (i) =>
      this.names.text(i),
    );
  }

  /** What the trace could not see, for the end of the run. */
  report(): void {
    const n = this.tracer?.overruns ?? 0;
    if (n > 0)
      this.io.err(
        `nftables trace events were lost ${n} times (ipft's netlink socket was full): some drops may say no trace event matched`,
      );
  }
}
