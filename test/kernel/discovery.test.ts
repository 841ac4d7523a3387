// ipft -l and --features on the running kernel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipft, kernelSkipReason, onePassSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? onePassSkipReason();

test("-l lists functions and tracepoints with their skb position, sorted by name", { skip }, () => {
  const r = ipft(["-l"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^NAME\s+MODULE\s+KIND\s+SKB_POS\s+BACKENDS$/m);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/));
  const fns = rows.filter((x) => x[2] === "function");
  const tps = rows.filter((x) => x[2] === "tracepoint");
  assert.ok(fns.length > 1000, `${fns.length} functions`);
  assert.ok(tps.length >= 10, `${tps.length} tracepoints`);
  const find = (n: string, k: string) => rows.find((x) => x[0] === n && x[2] === k);
  assert.deepEqual(find("netif_receive_skb", "tracepoint")?.slice(1), [
    "vmlinux",
    "tracepoint",
    "1",
    "tracepoint",
  ]);
  assert.deepEqual(find("kfree_skb", "tracepoint")?.slice(1), ["vmlinux", "tracepoint", "1", "tracepoint"]);
  assert.deepEqual(find("qdisc_dequeue", "tracepoint")?.slice(1), [
    "vmlinux",
    "tracepoint",
    "4",
    "tracepoint",
  ]);
  const names = rows.map((x) => x[0]!);
  assert.deepEqual(
    names,
    [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  );
});

test("-l -r filters by name", { skip }, () => {
  const r = ipft(["-l", "-r", "^netif_receive_skb"]);
  assert.equal(r.status, 0, r.stderr);
  for (const l of r.stdout.trim().split("\n")) assert.match(l, /^netif_receive_skb/);
});

/** Backend name -> works here, from ipft --features. */
function features(): Map<string, boolean> {
  const r = ipft(["--features"]);
  assert.equal(r.status, 0, r.stderr);
  return new Map(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => [l.split(/\s+/)[0]!, l.split(/\s+/)[1] === "yes"]),
  );
}

test("-l: BACKENDS says which working backends trace each point; no tracepoint stubs", { skip }, () => {
  const works = features();
  const r = ipft(["-l"]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/));
  for (const x of rows) {
    assert.equal(x.length, 5, x.join(" "));
    const bs = x[4] === "-" ? [] : x[4]!.split(",");
    for (const b of bs) assert.ok(works.get(b), `${x[0]}: ${b} works here`);
    if (x[2] === "tracepoint") assert.deepEqual(bs, works.get("tracepoint") ? ["tracepoint"] : []);
    else assert.ok(!bs.includes("tracepoint"), x.join(" "));
  }
  const stubs = rows.filter((x) => /^(__bpf_trace_|__probestub_|__traceiter_)/.test(x[0]!));
  assert.deepEqual(stubs, [], "tracepoint stubs are not listed");
  // ip_rcv is an ordinary traceable function: every function backend that works here traces it, best first.
  const fnBackends = ["kprobe-multi", "kprobe", "ftrace"].filter((b) => works.get(b));
  const ipRcv = rows.find((x) => x[0] === "ip_rcv" && x[2] === "function")!;
  assert.equal(ipRcv[4], fnBackends.length === 0 ? "-" : fnBackends.join(","), ipRcv.join(" "));
});

test("-l -b keeps the points that backend handles", { skip }, () => {
  const r = ipft(["-l", "-b", "tracepoint"]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split("\n");
  assert.ok(rows.length >= 10, `${rows.length} tracepoints`);
  for (const l of rows) assert.match(l, /^\S+\s+\S+\s+tracepoint\s+\d+\s+\S+$/);
  const k = ipft(["-l", "-b", "kprobe", "-r", "^ip_rcv$"]);
  assert.equal(k.status, 0, k.stderr);
  assert.match(k.stdout, /^ip_rcv\s+vmlinux\s+function\s+1\s/);
});

test("a -r that matches only points this kernel cannot trace says why", { skip }, () => {
  const works = features();
  const r = ipft(["-m", "1", "-b", "tracepoint", "-r", "^ip_rcv$"]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "ipft: ip_rcv is a kernel function and -b tracepoint attaches only tracepoints\n");
  if (["kprobe-multi", "kprobe", "ftrace"].some((b) => works.get(b))) return;
  const f = ipft(["-m", "1", "-r", "^ip_rcv$"]);
  assert.equal(f.status, 1);
  assert.equal(
    f.stderr,
    "ipft: ip_rcv is a kernel function and this kernel has no function backend (see ipft --features)\n",
  );
});

test("--features says which backends work, with reasons", { skip }, () => {
  const r = ipft(["--features"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/)[0]),
    ["kprobe", "kprobe-multi", "ftrace", "tracepoint"],
  );
  for (const l of lines) assert.match(l, /^\S+\s+(yes|no)\s+\S/);
  assert.match(lines[3]!, /^tracepoint\s+yes/);
});
