// Runs the kernel tests inside a qemu guest whose kernel has kprobes, kprobe-multi and fentry, once per
// backend (scripts/test-vm.sh). IPFT_VM_TESTS=0 skips it; no qemu or kernel package skips with the reason.
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

test("every backend traces real packets in a VM", { skip: off, timeout: 70 * 60_000 }, (t) => {
  const r = spawnSync("bash", [`${ROOT}scripts/test-vm.sh`], { encoding: "utf8", maxBuffer: 64 << 20 });
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
  const summary = out.slice(out.lastIndexOf("== summary"));
  assert.equal(r.status, 0, `VM tests failed:\n${summary || out.slice(-4000)}`);
  for (const b of ["kprobe", "kprobe-multi", "ftrace", "tracepoint"])
    assert.match(summary, new RegExp(`backend ${b}: pass`));
});
