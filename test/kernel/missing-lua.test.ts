// A machine without Debian's liblua5.3-0: scripts cannot run, and ipft says what to install (exit 1), not
// "internal error". The library is hidden in a private mount namespace, so nothing else is affected.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { test } from "node:test";
import { IPFT, kernelSkipReason, onePassSkipReason, ROOT } from "../support/run.js";

const DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/liblua5.3.so.0";
const skip =
  kernelSkipReason() ??
  onePassSkipReason() ??
  (existsSync(DEBIAN_LIB) ? undefined : `${DEBIAN_LIB} is not there`) ??
  (spawnSync("unshare", ["-m", "true"]).status === 0 ? undefined : "unshare -m does not work here");

test("-s without liblua5.3: one line naming the package, exit 1", { skip }, () => {
  // --gen module needs Lua and nothing of the kernel's BPF.
  const args = [process.execPath, IPFT, "--gen", "module", "-s", `${ROOT}examples/gso.lua`];
  const hide = `mount --bind /dev/null ${realpathSync(DEBIAN_LIB)} && exec "$@"`;
  const r = spawnSync("unshare", ["-m", "sh", "-c", hide, "sh", ...args], { encoding: "utf8" });
  assert.equal(
    r.stderr,
    "ipft: Lua scripts need liblua5.3.so.0, which cannot be loaded: install it (Debian: apt-get install liblua5.3-0)\n",
  );
  assert.equal(r.status, 1);
});
