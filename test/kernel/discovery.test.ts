// ipft -l and --features on the running kernel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ipft, kernelSkipReason } from "../support/run.js";

const skip = kernelSkipReason();

test("-l lists functions and tracepoints with their skb position, sorted by name", { skip }, () => {
  const r = ipft(["-l"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^NAME\s+MODULE\s+KIND\s+SKB_POS$/m);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/));
  const fns = rows.filter((x) => x[2] === "function");
  const tps = rows.filter((x) => x[2] === "tracepoint");
  assert.ok(fns.length > 1000, `${fns.length} functions`);
  assert.ok(tps.length >= 10, `${tps.length} tracepoints`);
  const find = (n: string, k: string) => rows.find((x) => x[0] === n && x[2] === k);
  assert.deepEqual(find("netif_receive_skb", "tracepoint")?.slice(1), ["vmlinux", "tracepoint", "1"]);
  assert.deepEqual(find("kfree_skb", "tracepoint")?.slice(1), ["vmlinux", "tracepoint", "1"]);
  assert.deepEqual(find("qdisc_dequeue", "tracepoint")?.slice(1), ["vmlinux", "tracepoint", "4"]);
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
