// Without --nft-trace, the first netfilter drop prints one hint naming the flag; other drops print none.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CreatedWriter } from "../../src/output/index.js";
import { VERDICT_DROP } from "../../src/record/record.js";
import type { SessionConfig } from "../../src/session/config.js";
import type { SessionIo } from "../../src/session/io.js";
import { KernelObjects } from "../../src/session/kernel-objects.js";
import type { KernelView } from "../../src/session/kernel-view.js";
import { NftDrops } from "../../src/session/nft-drops.js";
import { recordOffsets, records } from "../output/records.js";

const NETFILTER_DROP = 9;
const kernel = {
  btf: {
    enumValues: () => [
      ["SKB_DROP_REASON_NO_SOCKET", 3n],
      ["SKB_DROP_REASON_NETFILTER_DROP", BigInt(NETFILTER_DROP)],
    ],
  },
} as unknown as KernelView;

test("one hint at the first NETFILTER_DROP without --nft-trace; every event still reaches the writer", () => {
  const said: string[] = [];
  const io = { err: (l: string) => said.push(l) } as unknown as SessionIo;
  const nft = NftDrops.start({ verdicts: true } as SessionConfig, kernel, io, new KernelObjects());
  assert.equal(nft.details, undefined);
  let written = 0;
  const w = nft.wrap({ write: () => written++ } as unknown as CreatedWriter);
  const drop = (ts: bigint, reason: number) => ({
    skb: 0xffff888100001000n,
    ts,
    func: 7n,
    cpu: 0,
    verdict: { kind: VERDICT_DROP, reason, location: 0n },
  });
  const evs = [drop(1n, 3), drop(2n, NETFILTER_DROP), drop(3n, NETFILTER_DROP)];
  const dv = records(evs);
  for (const off of recordOffsets(evs)) w.write(dv, off, 1);
  assert.equal(written, 3);
  assert.deepEqual(said, [
    "a packet was dropped by netfilter (NETFILTER_DROP): --nft-trace names the nftables rule or chain policy that dropped it",
  ]);
});
