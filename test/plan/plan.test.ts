import assert from "node:assert/strict";
import { test } from "node:test";
import type { BackendName } from "../../src/core/names.js";
import type { KernelFeatures } from "../../src/features/probe.js";
import type { AttachPoint } from "../../src/plan/attach-points.js";
import { backendsFor, makePlan, type PlanInput, pointRules } from "../../src/plan/plan.js";

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

test("tracepoint stubs (__bpf_trace_*, __probestub_*, ...) are never traced, by any backend", () => {
  const stubs = [
    fn("__bpf_trace_kfree_skb", 2, 4),
    fn("__probestub_kfree_skb", 2, 4),
    fn("__traceiter_kfree_skb", 2, 4),
    fn("perf_trace_kfree_skb", 2, 4),
    fn("trace_event_raw_event_kfree_skb", 2, 4),
  ];
  const p = plan({ points: [...POINTS, ...stubs] });
  assert.deepEqual(names(p.functions), names(plan({}).functions));
  assert.equal(p.untraceable, plan({}).untraceable, "stubs are not counted as untraceable either");
  assert.ok(p.notes.some((n) => n.startsWith("5 tracepoint stubs")));
  const rules = pointRules({ traceable: null });
  const all = () => true;
  for (const s of stubs) assert.deepEqual(backendsFor(s, all, rules), [], s.name);
  assert.throws(
    () => plan({ points: [...POINTS, ...stubs], regex: /^__bpf_trace_/ }),
    /generated to deliver a tracepoint/,
  );
});

test("backendsFor: what -l shows; makePlan traces a point exactly when its backend is among them", () => {
  const rules = pointRules({ traceable: new Set(["ip_rcv", "late_skb", "many_args"]) });
  const only =
    (...bs: BackendName[]) =>
    (b: BackendName) =>
      bs.includes(b);
  const every = only("kprobe-multi", "kprobe", "ftrace", "tracepoint");
  const show = (supported: (b: BackendName) => boolean) =>
    POINTS.map((p) => `${p.name}:${backendsFor(p, supported, rules).join(",") || "-"}`);
  assert.deepEqual(show(every), [
    "ip_rcv:kprobe-multi,kprobe,ftrace",
    "many_args:kprobe-multi,kprobe",
    "late_skb:ftrace",
    "not_listed:-",
    "netif_receive_skb:tracepoint",
  ]);
  assert.deepEqual(show(only("tracepoint")), [
    "ip_rcv:-",
    "many_args:-",
    "late_skb:-",
    "not_listed:-",
    "netif_receive_skb:tracepoint",
  ]);
  for (const b of ["kprobe-multi", "kprobe", "ftrace"] as const) {
    const p = plan({ backend: b, traceable: new Set(["ip_rcv", "late_skb", "many_args"]) });
    assert.deepEqual(
      names(p.functions),
      names(POINTS.filter((x) => backendsFor(x, every, rules).includes(b))),
      `${b}: the plan and the list agree`,
    );
  }
  // The kprobe lists are read once, and only for kprobe.
  let reads = 0;
  const k = pointRules({
    traceable: null,
    kprobeBlacklist: () => {
      reads++;
      return new Set(["ip_rcv"]);
    },
  });
  assert.equal(k(POINTS[0]!, "kprobe-multi"), undefined);
  assert.equal(reads, 0);
  assert.equal(k(POINTS[0]!, "kprobe"), "blacklisted");
  assert.equal(k(POINTS[3]!, "kprobe"), undefined);
  assert.equal(reads, 1);
  assert.equal(k(POINTS[4]!, "kprobe"), "kind");
});

test("a filter that matches only untraceable points says why, for the point most likely meant", () => {
  const tpOnly = features(["tracepoint"]);
  const points = [fn("ip_rcv_core"), fn("ip_rcv"), fn("ip_rcv_finish"), tp("netif_receive_skb")];
  assert.throws(
    () => plan({ points, features: tpOnly, regex: /^ip_rcv$/ }),
    (e: Error) =>
      e.message ===
      "ip_rcv is a kernel function and this kernel has no function backend (see ipft --features)",
  );
  assert.throws(
    () => plan({ points, features: tpOnly, regex: /ip_rcv/ }),
    /^UserError: ip_rcv is a kernel function and this kernel has no function backend \(see ipft --features\); the 2 other matching attach points cannot be traced here either/,
  );
  assert.throws(
    () => plan({ points, regex: /^ip_rcv$/, backend: "tracepoint" }),
    /^UserError: ip_rcv is a kernel function and -b tracepoint attaches only tracepoints$/,
  );
  assert.throws(
    () => plan({ regex: /^late_skb$/, backend: "kprobe" }),
    /^UserError: late_skb takes its skb as argument 7 and kprobe reads only the first 6$/,
  );
  assert.throws(
    () => plan({ regex: /^many_args$/, backend: "ftrace" }),
    /^UserError: many_args has 14 arguments and ftrace attaches functions of at most 12$/,
  );
  assert.throws(
    () => plan({ regex: /^not_listed$/, traceable: new Set(["ip_rcv"]) }),
    /^UserError: not_listed is not in the kernel's available_filter_functions/,
  );
  assert.throws(
    () => plan({ regex: /^netif_receive_skb$/, features: features(["kprobe"]) }),
    /^UserError: netif_receive_skb is a tracepoint and this kernel cannot attach tracepoints \(tracepoint missing here\)$/,
  );
});

test("-r attaches what it matches and can trace, and names what it leaves out on one line", () => {
  const tpOnly = features(["tracepoint"]);
  const points = [fn("ip_rcv_core"), fn("ip_rcv"), fn("ip_rcv_finish"), fn("ip_output"), tp("ip_tp")];
  const p = plan({ points, features: tpOnly, regex: /^ip_/ });
  assert.deepEqual(names(p.tracepoints), ["ip_tp"]);
  assert.equal(
    p.leftOut,
    "-r matches 5 attach points; 4 cannot be traced here and are left out: ip_rcv, ip_output, ip_rcv_core and 1 more, because ip_rcv is a kernel function and this kernel has no function backend (see ipft --features)",
  );
  // The same reasons as the error when nothing that matches can be traced; one part per reason.
  const k = plan({ backend: "kprobe", regex: /^(ip_rcv|late_skb|many_args)$/ });
  assert.deepEqual(names(k.functions), ["ip_rcv", "many_args"]);
  assert.equal(
    k.leftOut,
    "-r matches 3 attach points; 1 cannot be traced here and is left out: late_skb, because late_skb takes its skb as argument 7 and kprobe reads only the first 6",
  );
  const m = plan({ backend: "ftrace", regex: /./, moduleRegex: /vmlinux/ });
  assert.match(m.leftOut ?? "", /^-r and --module-regex match 5 attach points; 1 cannot be traced here/);
  // Nothing to say without a filter (a whole trace leaves out what it cannot trace, as the count says),
  // nor when everything that matches is traced.
  assert.equal(plan({ features: tpOnly }).leftOut, undefined);
  assert.equal(plan({ regex: /^ip_rcv$/ }).leftOut, undefined);
});
