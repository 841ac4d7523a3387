import assert from "node:assert/strict";
import { test } from "node:test";
import type { BackendName } from "../../src/core/names.js";
import type { KernelFeatures } from "../../src/features/probe.js";
import type { AttachPoint } from "../../src/plan/attach-points.js";
import { makePlan, type PlanInput } from "../../src/plan/plan.js";

const fn = (name: string, skbPos = 1, nargs = 2): AttachPoint => ({
  name,
  module: "vmlinux",
  kind: "function",
  skbPos,
  nargs,
  btfId: 1,
});
const tp = (name: string): AttachPoint => ({
  name,
  module: "vmlinux",
  kind: "tracepoint",
  skbPos: 1,
  nargs: 1,
  btfId: 2,
});
const POINTS = [
  fn("ip_rcv"),
  fn("many_args", 1, 14),
  fn("late_skb", 7, 8),
  fn("not_listed"),
  tp("netif_receive_skb"),
];

function features(ok: BackendName[], loads: BackendName[] = ok): KernelFeatures {
  const all: BackendName[] = ["kprobe", "kprobe-multi", "ftrace", "tracepoint"];
  return {
    backends: new Map(
      all.map((n) => [
        n,
        {
          name: n,
          ok: ok.includes(n),
          loads: loads.includes(n),
          reason: ok.includes(n) ? "works" : `${n} missing here`,
        },
      ]),
    ),
    probeRead: 113,
    kprobeFuncIp: true,
  };
}

const plan = (over: Partial<PlanInput>) =>
  makePlan({
    points: POINTS,
    features: features(["kprobe-multi", "kprobe", "ftrace", "tracepoint"]),
    tracer: "function",
    traceable: null,
    ...over,
  });
const names = (ps: AttachPoint[]) => ps.map((p) => p.name);

test("the best function backend is chosen, and tracepoints are added", () => {
  const p = plan({});
  assert.equal(p.functionBackend, "kprobe-multi");
  assert.deepEqual(names(p.tracepoints), ["netif_receive_skb"]);
  assert.equal(plan({ features: features(["kprobe", "ftrace", "tracepoint"]) }).functionBackend, "kprobe");
  assert.equal(plan({ features: features(["ftrace"]) }).functionBackend, "ftrace");
  const tpOnly = plan({ features: features(["tracepoint"]) });
  assert.equal(tpOnly.functionBackend, undefined);
  assert.deepEqual(names(tpOnly.functions), []);
  assert.equal(tpOnly.untraceable, 4);
});

test("backend limits: kprobe reads 6 argument registers, fentry takes 12 arguments", () => {
  assert.deepEqual(names(plan({ backend: "kprobe" }).functions), ["ip_rcv", "many_args", "not_listed"]);
  assert.deepEqual(names(plan({ backend: "ftrace" }).functions), ["ip_rcv", "late_skb", "not_listed"]);
});

test("filters: regex, module regex, and the traceable list when the kernel shows it", () => {
  const p = plan({ regex: /^ip_/ });
  assert.deepEqual(names(p.functions), ["ip_rcv"]);
  assert.equal(p.filtered, 4);
  assert.deepEqual(names(plan({ traceable: new Set(["ip_rcv", "late_skb", "many_args"]) }).functions), [
    "ip_rcv",
    "many_args",
  ]);
  assert.throws(
    () => plan({ moduleRegex: /^veth$/ }),
    /no attach point matches the filters \(5 filtered out/,
  );
});

test("a backend the kernel lacks is refused with its reason; --test only needs it to load", () => {
  const f = features(["tracepoint"], ["tracepoint", "kprobe"]);
  assert.throws(
    () => plan({ features: f, backend: "kprobe" }),
    /^Error: backend kprobe is not supported here: kprobe missing here$|backend kprobe is not supported here: kprobe missing here/,
  );
  assert.equal(plan({ features: f, backend: "kprobe", loadOnly: true }).functionBackend, "kprobe");
  // Without -b, --test uses what a trace would use.
  assert.equal(plan({ features: f, loadOnly: true }).functionBackend, undefined);
});

test("function_graph needs ftrace; nothing usable is an error", () => {
  assert.throws(
    () => plan({ tracer: "function_graph" }),
    /function_graph needs the ftrace backend.*add -b ftrace/,
  );
  assert.equal(plan({ tracer: "function_graph", backend: "ftrace" }).functionBackend, "ftrace");
  assert.throws(() => plan({ features: features([]) }), /no backend works on this kernel/);
});

test("the kernel's kprobe blacklist keeps those functions from the kprobe backend only", () => {
  const kprobeBlacklist = () => new Set(["ip_rcv"]);
  const k = plan({ backend: "kprobe", kprobeBlacklist });
  assert.deepEqual(names(k.functions), ["many_args", "not_listed"]);
  assert.equal(k.untraceable, 2);
  assert.ok(k.notes.includes("1 functions are on the kernel's kprobe blacklist: untraceable"));
  assert.deepEqual(names(plan({ backend: "kprobe-multi", kprobeBlacklist }).functions), [
    "ip_rcv",
    "many_args",
    "not_listed",
  ]);
});

test("names kallsyms has twice cannot be kprobed by name: untraceable for kprobe, asked only then", () => {
  let asked = 0;
  const repeatedNames = () => {
    asked++;
    return new Set(["not_listed"]);
  };
  const k = plan({ backend: "kprobe", repeatedNames });
  assert.deepEqual(names(k.functions), ["ip_rcv", "many_args"]);
  assert.ok(k.notes.some((n) => n.startsWith("1 functions share their name with another kernel function")));
  assert.equal(asked, 1);
  plan({ backend: "kprobe-multi", repeatedNames });
  assert.equal(asked, 1);
});
