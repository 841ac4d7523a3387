// node's hrtime is the kernel's CLOCK_MONOTONIC (the clock of bpf_ktime_get_ns), which the pcapng clock
// converter relies on. Needs this machine: root, to read /proc/timer_list (skipped, saying so, otherwise).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

test("process.hrtime.bigint() is CLOCK_MONOTONIC: /proc/timer_list's ktime_get() lies between two reads", {
  skip: process.getuid?.() === 0 ? false : "/proc/timer_list is readable by root only",
}, () => {
  const before = process.hrtime.bigint();
  const text = readFileSync("/proc/timer_list", "utf8");
  const after = process.hrtime.bigint();
  const m = /^now at (\d+) nsecs$/m.exec(text);
  assert.ok(m, "/proc/timer_list has its 'now at N nsecs' line");
  const now = BigInt(m[1]!);
  assert.ok(before <= now && now <= after, `${before} <= ${now} <= ${after}`);
});
