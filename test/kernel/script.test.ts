// The GSO example script end to end: the `len` it collects matches each packet's size at each attach point.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipft, kernelSkipReason, ROOT, senderArgs } from "../support/run.js";

const skip = kernelSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
// skb->len = UDP payload + these bytes: Ethernet (14) + IP (20) + UDP (8) while transmitting; the Ethernet
// header is pulled on receive; the IP header once IP hands the packet to UDP.
const OVERHEAD: Record<string, number> =
  BACKEND === "tracepoint"
    ? { net_dev_queue: 42, net_dev_start_xmit: 42, netif_rx: 28, net_dev_xmit: 28, netif_receive_skb: 28 }
    : { __dev_queue_xmit: 42, __netif_receive_skb: 28, ip_rcv: 28, udp_rcv: 8 };
const SIZES = [100, 1000, 1400];

test(`examples/gso.lua: len matches each packet's size at each attach point (${BACKEND})`, { skip }, () => {
  const r = ipft([
    "-b",
    BACKEND,
    "-r",
    `^(${Object.keys(OVERHEAD).join("|")})$`,
    "-m",
    "0x2a",
    "-s",
    `${ROOT}examples/gso.lua`,
    "-o",
    "json",
    "--",
    ...senderArgs(0x2a, ["--count", "3", "--size", SIZES.join(",")]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const ev = r.stdout
    .trim()
    .split("\n")
    .map(
      (l) =>
        JSON.parse(l) as {
          packet_id: number;
          function: string;
          len: number;
          gso_segs: number;
          gso_size: number;
        },
    );
  for (const [fn, extra] of Object.entries(OVERHEAD)) {
    const lens = ev.filter((e) => e.function === fn).map((e) => e.len);
    assert.deepEqual(
      lens,
      SIZES.map((s) => s + extra),
      `${fn}: ${lens}`,
    );
  }
  for (const e of ev) assert.equal(e.gso_size, 0, "small UDP datagrams are not GSO");
});
