// The translated filters against libpcap itself: for every expression, both link types and every
// generated packet, the kernel's verdict on the translated eBPF (run with BPF_PROG_TEST_RUN, in an XDP
// program that copies the packet to the stack with bpf_probe_read_kernel as ipft's programs will; see
// test/filter/xdp-harness.ts for why XDP) equals pcap_offline_filter's verdict on the same bytes, with
// the same capture length (the buffer's size) and the same wire length.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALIGN_SHIFT, compilePcapFilter, type LinkType } from "../../src/filter/index.js";
import { OfflineProgram } from "../../src/sys/pcap.js";
import { EXPRESSIONS, RAW_REFUSED } from "../filter/expressions.js";
import { generate } from "../filter/packets.js";
import { BUF_SIZE, LoadedFilter } from "../filter/xdp-harness.js";
import { kernelSkipReason, onePassSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? onePassSkipReason();
const PACKETS = generate(1200, 7);

// Each link type with the packet where ipft puts it (ALIGN_SHIFT) and at another alignment, so loads
// done whole and loads done in pieces are both checked.
const RUNS: [LinkType, number][] = [
  ["ethernet", ALIGN_SHIFT.ethernet],
  ["ethernet", 1],
  ["raw", ALIGN_SHIFT.raw],
  ["raw", 3],
];

for (const [linktype, shift] of RUNS) {
  test(`${EXPRESSIONS.length} expressions × the generated packets (${linktype}, buffer shifted by ${shift}): the kernel agrees with libpcap on every one`, {
    skip,
  }, (t) => {
    const packets = PACKETS.flatMap((p) => {
      const bytes = linktype === "ethernet" ? p.ether : p.raw;
      return bytes ? [{ bytes, what: p.what }] : [];
    });
    assert.ok(packets.length >= 1000, `${packets.length} packets`);
    let pairs = 0;
    let translated = 0;
    const mismatches: string[] = [];
    for (const expr of EXPRESSIONS) {
      if (linktype === "raw" && expr in RAW_REFUSED) {
        assert.throws(
          () => compilePcapFilter(expr, { linktype }),
          (e: Error & { status?: number }) => e.message.includes(RAW_REFUSED[expr]!) && e.status === 2,
        );
        continue;
      }
      const f = compilePcapFilter(expr, { linktype });
      const pcap = new OfflineProgram(f.cbpf);
      const kernel = new LoadedFilter(f.cbpf, "filter_test", shift);
      translated++;
      let matched = 0;
      try {
        for (const p of packets) {
          const want = pcap.run(p.bytes.subarray(0, BUF_SIZE), p.bytes.length) !== 0;
          const got = kernel.run(p.bytes);
          pairs++;
          if (want) matched++;
          if (want !== got && mismatches.length < 20)
            mismatches.push(`${expr}: libpcap ${want}, kernel ${got} on ${p.what} (${p.bytes.length} bytes)`);
        }
      } finally {
        kernel.close();
      }
      t.diagnostic(`${expr}: ${matched}/${packets.length} match, ${kernel.insnCount} eBPF instructions`);
      // The packets are made to tell each filter's two answers apart (raw IP has no ARP or other types).
      if (!(linktype === "raw" && expr === "not ip and not ip6"))
        assert.ok(matched > 0 && matched < packets.length, `${expr}: ${matched} of ${packets.length} match`);
    }
    assert.deepEqual(mismatches, []);
    t.diagnostic(`${translated} programs × ${packets.length} packets = ${pairs} verdicts, all equal`);
    assert.equal(pairs, translated * packets.length);
  });
}
