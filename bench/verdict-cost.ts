// Kernel time per event of ipft's programs (bpf_stats: run_time_ns / run_cnt), mark-only programs next to
// the verdict programs (kfree_skb, consume_skb), on marked UDP sent to a closed loopback port (every packet
// is dropped) with unmarked traffic mixed in (the verdict tracepoints see every freed skb of the machine, so
// their mark test must stay first and cheap). Peer, same traffic and method: bpftrace on the same
// tracepoints with the same mark test. Needs root.
//   node dist/bench/verdict-cost.js [--seconds 3]
import {
  bpftracePoint,
  type Cost,
  cell,
  MARK,
  measureBpftrace,
  measureIpft,
  POINTS,
  SECONDS,
  withBpfStats,
} from "./kernel-cost.js";

await withBpfStats("verdict-cost", async () => {
  // Tracking (the default) keeps a marked packet's entry up to date at every point; --no-track is the
  // mark test and the record alone, as bpftrace's program does.
  const ipft = await measureIpft([], 1);
  const plain = await measureIpft(["--no-track"], 1);
  // The same mark test on the same tracepoints, counting per point.
  const prog = POINTS.map(
    (tp, i) =>
      `${bpftracePoint(tp)} /((struct sk_buff *)args->skbaddr)->mark == ${MARK}/ { @[${i}] = count(); }`,
  ).join("\n");
  const bt = await measureBpftrace(prog, 1);
  console.log(
    `\nkernel time per program run, ${SECONDS} s of UDP to a closed port (half of it marked), bpf_stats\n`,
  );
  console.log(
    `${"attach point".padEnd(20)} ${"ipft runs".padStart(10)} ${"ipft ns".padStart(8)} ${"--no-track ns".padStart(14)} ${"bpftrace ns".padStart(12)} ${"ratio".padStart(6)} ${"--no-track ratio".padStart(17)}`,
  );
  for (const n of POINTS) {
    const i = ipft.get(n);
    const q = plain.get(n);
    const b = bt?.get(n);
    const r = (x: Cost | undefined) => (x && b ? (x.ns / x.cnt / (b.ns / b.cnt)).toFixed(2) : "-");
    console.log(
      `${n.padEnd(20)} ${String(i?.cnt ?? 0).padStart(10)} ${cell(i).padStart(8)} ${cell(q).padStart(14)} ${cell(b).padStart(12)} ${r(i).padStart(6)} ${r(q).padStart(17)}`,
    );
  }
});
