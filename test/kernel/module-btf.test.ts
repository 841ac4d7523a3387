// The kernel's BTF objects, found by module name: what fentry/fexit need to name a module's function.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { moduleBtfFds } from "../../src/btf/module-fd.js";
import { close } from "../../src/sys/libc.js";
import { kernelSkipReason, onePassSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? onePassSkipReason();

test("every module with BTF in /sys/kernel/btf has a kernel BTF object; unknown names have none", {
  skip,
}, (t) => {
  const modules = readdirSync("/sys/kernel/btf").filter((n) => n !== "vmlinux");
  if (modules.length === 0) {
    t.skip("no kernel module with BTF is loaded");
    return;
  }
  const fds = moduleBtfFds([...modules, "no_such_module"]);
  try {
    assert.deepEqual([...fds.keys()].sort(), [...modules].sort());
    for (const fd of fds.values()) assert.ok(fd > 2);
  } finally {
    for (const fd of fds.values()) close(fd);
  }
});

test("the kernel's own BTF object is found by its name, vmlinux (runs where no module has BTF)", {
  skip,
}, () => {
  const fds = moduleBtfFds(["vmlinux", "no_such_module"]);
  try {
    assert.deepEqual([...fds.keys()], ["vmlinux"]);
  } finally {
    for (const fd of fds.values()) close(fd);
  }
});
