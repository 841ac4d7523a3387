// A machine without Debian's libpcap0.8: a filter cannot be compiled, and the error names the package to
// install. The library is hidden in a private mount namespace, so nothing else is affected.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { test } from "node:test";
import { kernelSkipReason, onePassSkipReason, ROOT } from "../support/run.js";

const DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/libpcap.so.0.8";
const skip =
  kernelSkipReason() ??
  onePassSkipReason() ??
  (existsSync(DEBIAN_LIB) ? undefined : `${DEBIAN_LIB} is not there`) ??
  (spawnSync("unshare", ["-m", "true"]).status === 0 ? undefined : "unshare -m does not work here");

test("compiling a filter without libpcap.so.0.8: a UserError (exit 1) naming the Debian package", {
  skip,
}, () => {
  const script = `
    const { compilePcapFilter } = await import(${JSON.stringify(`${ROOT}dist/src/filter/index.js`)});
    try { compilePcapFilter("tcp", { linktype: "ethernet" }); console.log("compiled"); }
    catch (e) { console.log(\`\${e.name} \${e.status} \${e.message}\`); }`;
  const hide = `mount --bind /dev/null ${realpathSync(DEBIAN_LIB)} && exec "$@"`;
  const args = [process.execPath, "--input-type=module", "-e", script];
  const r = spawnSync("unshare", ["-m", "sh", "-c", hide, "sh", ...args], { encoding: "utf8" });
  assert.equal(r.stderr, "");
  assert.equal(
    r.stdout,
    "UserError 1 packet filters need libpcap.so.0.8, which cannot be loaded: install it (Debian: apt-get install libpcap0.8)\n",
  );
});
