import assert from "node:assert/strict";
import { test } from "node:test";
import { fentryRefusal, noKprobePmuReason } from "../../src/features/probe.js";

const BPF_PERFMON = (1n << 39n) | (1n << 38n);
const SYS_ADMIN = 1n << 21n;

test("fentry EPERM with CAP_BPF and CAP_PERFMON: the kernel's refusal, not a permission to get", () => {
  for (const caps of [BPF_PERFMON, SYS_ADMIN]) {
    const r = fentryRefusal("EPERM", { caps, filterFunctions: "EPERM" });
    assert.match(
      r,
      /^EPERM, though ipft has CAP_BPF and CAP_PERFMON: this kernel refuses fentry \(BPF trampoline\) programs/,
    );
    assert.match(r, /security module or kernel policy/);
    assert.match(r, /the function tracer refuses root too \(tracefs available_filter_functions: EPERM\)/);
    assert.match(r, /\/sys\/kernel\/security\/lockdown, and use -b tracepoint$/);
    assert.doesNotMatch(r, /run (it|ipft) as root/);
  }
  // The tracer's files open: no word about them.
  assert.doesNotMatch(fentryRefusal("EPERM", { caps: BPF_PERFMON, filterFunctions: "" }), /function tracer/);
});

test("fentry EPERM without the capabilities asks for them; other errors pass through", () => {
  assert.equal(
    fentryRefusal("EPERM", { caps: 1n << 12n }),
    "EPERM: fentry programs need CAP_BPF and CAP_PERFMON, which ipft lacks; run it as root",
  );
  assert.match(fentryRefusal("EPERM", {}), /^EPERM: run ipft as root/);
  assert.equal(fentryRefusal("EINVAL: bad btf id", { caps: BPF_PERFMON }), "EINVAL: bad btf id");
});

test("no kprobe PMU: the kernel config names the missing option when /proc/config.gz exists", () => {
  const guess =
    "no kprobe PMU (/sys/bus/event_source/devices/kprobe missing: kernel built without CONFIG_KPROBES?)";
  assert.equal(
    noKprobePmuReason(guess, "CONFIG_BPF=y\n# CONFIG_KPROBES is not set\n"),
    "no kprobe PMU: this kernel is built without CONFIG_KPROBES (/proc/config.gz); use -b tracepoint",
  );
  assert.match(
    noKprobePmuReason(guess, "CONFIG_KPROBES=y\n# CONFIG_KPROBE_EVENTS is not set\n"),
    /without CONFIG_KPROBE_EVENTS/,
  );
  assert.equal(noKprobePmuReason(guess, "CONFIG_KPROBES=y\nCONFIG_KPROBE_EVENTS=y\n"), guess);
  assert.equal(noKprobePmuReason(guess, undefined), guess);
});
