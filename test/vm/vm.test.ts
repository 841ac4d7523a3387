// Runs the kernel tests inside qemu guests, once per kernel (Debian's 6.12 cloud kernel, which has kprobes,
// kprobe-multi and fentry, and Debian 12's own 6.1) and per backend that kernel has (scripts/test-vm.sh).
// IPFT_VM_TESTS=0 skips it; IPFT_VM_KERNELS picks the kernels (default "6.12 6.1"); no qemu or kernel
// package skips with the reason.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { ROOT } from "../support/run.js";

const off =
  process.env.IPFT_VM_TESTS === "0"
    ? "IPFT_VM_TESTS=0"
    : process.getuid?.() !== 0
      ? "needs root (qemu, virtiofsd)"
      : undefined;
const KERNELS = (process.env.IPFT_VM_KERNELS ?? "6.12 6.1").split(/\s+/).filter(Boolean);
const BACKENDS = (process.env.IPFT_VM_BACKENDS ?? "kprobe kprobe-multi ftrace tracepoint")
  .split(/\s+/)
  .filter(Boolean);
// Each kernel's guest run may take IPFT_VM_TIMEOUT (default an hour), and a few minutes to set up.
const PER_KERNEL = (Number(process.env.IPFT_VM_TIMEOUT) || 3600) * 1000 + 5 * 60_000;

/** The lines of test-vm.sh's summary about one kernel: its own line and its backends' (indented). */
function kernelSummary(summary: string, kernel: string): string[] {
  const lines = summary.split("\n");
  const at = lines.findIndex((l) => l.startsWith(`kernel ${kernel} `) || l.startsWith(`kernel ${kernel}:`));
  if (at < 0) return [];
  const end = lines.findIndex((l, i) => i > at && !l.startsWith("  "));
  return lines.slice(at, end < 0 ? undefined : end);
}

/** The backends each kernel must pass (the others may be skipped, with the kernel's reason): 6.12 has them
 * all; Debian 12's 6.1 has no kprobe-multi (no CONFIG_FPROBE); any other kernel at least the tracepoints. */
const MUST: Record<string, string[]> = {
  "6.12": BACKENDS,
  "6.1": ["kprobe", "ftrace", "tracepoint"],
};

test("every backend traces real packets in a VM, on each kernel", {
  skip: off,
  timeout: KERNELS.length * PER_KERNEL,
}, (t) => {
  const r = spawnSync("bash", [`${ROOT}scripts/test-vm.sh`], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: { ...process.env, IPFT_VM_KERNELS: KERNELS.join(" ") },
  });
  const out = `${r.stdout}${r.stderr}`;
  process.stdout.write(
    out
      .split("\n")
      .map((l) => `# vm: ${l}`)
      .join("\n") + "\n",
  );
  if (r.status === 77) {
    t.skip(/SKIP: (.*)/.exec(out)?.[1] ?? "VM unavailable");
    return;
  }
  const summary = out.slice(out.lastIndexOf("=== summary"));
  assert.equal(r.status, 0, `VM tests failed:\n${summary || out.slice(-4000)}`);
  for (const k of KERNELS) {
    const lines = kernelSummary(summary, k);
    assert.ok(lines.length > 0, `no summary for kernel ${k}:\n${summary}`);
    const skipped = /^kernel \S+: skip \((.*)\)$/.exec(lines[0]!);
    if (skipped) {
      t.diagnostic(`kernel ${k} skipped: ${skipped[1]}`);
      continue;
    }
    assert.match(lines[0]!, /: pass \(/, lines.join("\n"));
    const must = MUST[k] ?? ["tracepoint"];
    for (const b of BACKENDS) {
      const want = must.includes(b) ? "pass \\(\\d+ s\\)" : "(pass \\(\\d+ s\\)|skip \\(.+\\))";
      assert.ok(
        lines.some((l) => new RegExp(`^  backend ${b}: ${want}`).test(l)),
        `kernel ${k}, backend ${b}: expected /${want}/ in\n${lines.join("\n")}`,
      );
    }
  }
});
