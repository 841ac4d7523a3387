import assert from "node:assert/strict";
import { test } from "node:test";
import { createWriter, functionDumper } from "../../src/output/index.js";
import {
  BIG_TS,
  IP_RCV,
  LONG,
  LONG_FUNC,
  LONG_MODULE,
  MAX_U64,
  records,
  run,
  symbolizer,
  TP,
  UDP_RCV,
} from "./records.js";

test("stream: `<packet id> 0x<skb> <timestamp> <cpu %03u> <module> <function>` per event, in arrival order", () => {
  const { out, w } = run("stream", [
    { skb: 0xffff888012345678n, ts: BIG_TS, func: IP_RCV, cpu: 1 },
    { skb: 0xffff888012345678n, ts: 5n, func: UDP_RCV, cpu: 42 },
    { skb: 0x1n, ts: MAX_U64, func: 0xdeadn, cpu: 123 },
    { skb: 0x100000000n, ts: 0n, func: LONG, cpu: 1234 },
    { skb: 0x2n, ts: 9n, func: TP, cpu: 0 },
  ]);
  assert.equal(
    out,
    "1 0xffff888012345678 1152921504606846979 001 vmlinux ip_rcv\n" +
      "1 0xffff888012345678 5 042 vmlinux udp_rcv\n" +
      "2 0x1 18446744073709551615 123 (unknown) (unknown)\n" +
      // No column widths in stream: long names print whole.
      `3 0x100000000 0 1234 ${LONG_MODULE} ${LONG_FUNC}\n` +
      "4 0x2 9 000 vmlinux netif_receive_skb\n",
  );
  assert.equal(w.count, 5);
});

test("stream: dump() text after a space; a table as ( k: v k2: v2 ); nothing for nil or empty", () => {
  const evs = [1, 2, 3, 4].map((i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0, data: i }));
  const dump = (d: Uint8Array) =>
    d[0] === 1 ? `len=${d[0]}` : d[0] === 2 ? { len: 2, dev: "lo", ok: true } : d[0] === 3 ? undefined : "";
  const { out } = run("stream", evs, { dumper: functionDumper(dump) });
  assert.equal(
    out,
    "1 0x1 1 000 vmlinux ip_rcv len=1\n" +
      "1 0x1 2 000 vmlinux ip_rcv ( len: 2 dev: lo ok: true )\n" +
      "1 0x1 3 000 vmlinux ip_rcv\n" +
      "1 0x1 4 000 vmlinux ip_rcv\n",
  );
});

test("stream: dump() sees the record's 64 data bytes", () => {
  const seen: number[][] = [];
  run("stream", [{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0, data: 200 }], {
    dumper: functionDumper((d) => {
      seen.push([d.length, d[0]!, d[1]!, d[63]!]);
      return undefined;
    }),
  });
  // records() fills byte k with (index + k), then byte 0 with data.
  assert.deepEqual(seen, [[64, 200, 1, 63]]);
});

test("stream: a preformatting dumper is used as is, and failures cost only their own text", () => {
  let n = 0;
  const dumper = {
    dump: () => {
      throw new Error("not used");
    },
    dumpFormatted: (_d: Uint8Array, format: string) => {
      if (++n === 2) throw new Error("dump() failed: x.lua:3: boom\nstack traceback: ...");
      return `${format}${n}`;
    },
  };
  const evs = [1, 2, 3].map((i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0 }));
  const { out, err } = run("stream", evs, { dumper });
  assert.equal(
    out,
    "1 0x1 1 000 vmlinux ip_rcv text1\n1 0x1 2 000 vmlinux ip_rcv\n1 0x1 3 000 vmlinux ip_rcv text3\n",
  );
  assert.equal(err, "ipft: dump() failed on 1 trace; first error: dump() failed: x.lua:3: boom\n");
});

test("stream: output is batched, and written once the current batch of records is done", async () => {
  const writes: string[] = [];
  const w = createWriter("stream", {
    out: { write: (s: string) => writes.push(s) },
    symbolizer,
    layout: "ipftrace2",
  });
  const dv = records([{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 }]);
  for (let i = 0; i < 100; i++) w.write(dv, 0, 1);
  assert.equal(writes.length, 0, "no write per event");
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(writes.length, 1, "one write for the batch, without finish()");
  assert.equal(writes[0], "1 0x1 1 000 vmlinux ip_rcv\n".repeat(100));
  w.finish();
  assert.equal(writes.length, 1, "nothing left to write");
});

test("stream: a large batch goes out in chunks of about 64 KiB", () => {
  const writes: string[] = [];
  const w = createWriter("stream", {
    out: { write: (s: string) => writes.push(s) },
    symbolizer,
    layout: "ipftrace2",
  });
  const dv = records([{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 }]);
  const line = "1 0x1 1 000 vmlinux ip_rcv\n";
  const n = 20_000; // 500 KB
  for (let i = 0; i < n; i++) w.write(dv, 0, 1);
  w.finish();
  assert.equal(writes.join(""), line.repeat(n));
  assert.ok(writes.length >= 7 && writes.length <= 9, `${writes.length} writes`);
  for (const s of writes.slice(0, -1)) assert.ok(s.length >= 65536 && s.length < 65536 + line.length);
});

test("stream and json: a batching dumper runs once per batch of records (at most 4096), lines in order", async () => {
  for (const kind of ["stream", "json"] as const) {
    const calls: number[] = [];
    const dumper = {
      dump: () => {
        throw new Error("not used");
      },
      dumpFormattedMany: (recs: Uint8Array, format: string) => {
        calls.push(recs.length / 64);
        // Each record's first data byte says which it is (records() puts i + k there).
        return Array.from({ length: recs.length / 64 }, (_, i) =>
          format === "json" ? `,"d":${recs[i * 64]}` : `d${recs[i * 64]}`,
        );
      },
    };
    const evs = Array.from({ length: 5000 }, (_, i) => ({ skb: 1n, ts: BigInt(i), func: IP_RCV, cpu: 0 }));
    const { out } = run(kind, evs, { dumper });
    assert.deepEqual(calls, [4096, 904], kind);
    const lines = out.trimEnd().split("\n");
    assert.equal(lines.length, 5000);
    lines.forEach((l, i) => {
      if (kind === "stream") assert.equal(l, `1 0x1 ${i} 000 vmlinux ip_rcv d${i & 0xff}`);
      else assert.equal((JSON.parse(l) as { d: number }).d, i & 0xff);
    });
    // Live: a few records are written once their batch is done, without finish().
    const writes: string[] = [];
    const w = createWriter(kind, {
      out: { write: (s: string) => writes.push(s) },
      symbolizer,
      dumper,
      layout: "ipftrace2",
    });
    const dv = records([{ skb: 1n, ts: 1n, func: IP_RCV, cpu: 0 }]);
    w.write(dv, 0, 1);
    w.write(dv, 0, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.join("").split("\n").length - 1, 2, `${kind}: both lines out without finish()`);
  }
});
