// Kernel time per event of the packet identity (record/parts/identity.ts; bpf_stats: run_time_ns /
// run_cnt per program), on marked UDP sent to a closed loopback port (selected traffic only: the cost per selected event): ipft
// with identity (the default: at a packet's first event and where its device or look changes) next to
// --no-identity, both with tracking, --identity-every (tracked, identity at every event), and --no-track
// (identity at every selected event) next to --no-track --no-identity. Peer, same traffic and method: bpftrace on the same tracepoints with the same
// mark test, reading the same headers at every marked event (the device's ifindex, name and namespace,
// 128 bytes from the mac header) and printing them. Needs root.
//   node dist/bench/identity-cost.js [--seconds 3]
import {
  bpftracePoint,
  type Costs,
  cell,
  MARK,
  measureBpftrace,
  measureIpft,
  POINTS,
  SECONDS,
  withBpfStats,
} from "./kernel-cost.js";

await withBpfStats("identity-cost", async () => {
  const runs: [string, Costs][] = [
    ["identity", await measureIpft([], 0)],
    ["no identity", await measureIpft(["--no-identity"], 0)],
    ["every event", await measureIpft(["--identity-every"], 0)],
    ["no-track id", await measureIpft(["--no-track"], 0)],
    ["no-track none", await measureIpft(["--no-track", "--no-identity"], 0)],
  ];
  const prog = POINTS.map(
    (tp, i) =>
      `${bpftracePoint(tp)} /((struct sk_buff *)args->skbaddr)->mark == ${MARK}/ { $s = (struct sk_buff *)args->skbaddr; $d = $s->dev; printf("%d %d %s %u %r\\n", ${i}, $d->ifindex, $d->name, $d->nd_net.net->ns.inum, buf($s->head + $s->mac_header, 128)); }`,
  ).join("\n");
  const bt = await measureBpftrace(prog, 0);
  if (bt) runs.push(["bpftrace", bt]);
  console.log(`\nkernel ns per program run, ${SECONDS} s of marked UDP to a closed port, bpf_stats\n`);
  console.log(`${"attach point".padEnd(20)} ${runs.map(([n]) => n.padStart(14)).join(" ")}`);
  for (const n of POINTS)
    console.log(`${n.padEnd(20)} ${runs.map(([, c]) => cell(c.get(n)).padStart(14)).join(" ")}`);
  const all = (c: Costs) => {
    let ns = 0;
    let cnt = 0;
    for (const v of c.values()) {
      ns += v.ns;
      cnt += v.cnt;
    }
    return cnt ? ns / cnt : Number.NaN;
  };
  console.log(`${"all points".padEnd(20)} ${runs.map(([, c]) => all(c).toFixed(0).padStart(14)).join(" ")}`);
  const a = (name: string) => all(runs.find(([n]) => n === name)![1]);
  console.log(
    `\nidentity / no identity: ${(a("identity") / a("no identity")).toFixed(2)} (tracking), ${(a("every event") / a("no identity")).toFixed(2)} (--identity-every), ${(a("no-track id") / a("no-track none")).toFixed(2)} (--no-track)`,
  );
});
