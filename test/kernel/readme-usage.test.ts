// Every command of the README's "Using it" block, run for real as a user would type it (with `ipft` on the
// PATH): tracing commands get `-- true` when they have no command of their own, so each one starts, traces
// briefly and ends. Each must exit 0 and print no error line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { IPFT, kernelSkipReason, onePassSkipReason, ROOT, slowInVmSkipReason } from "../support/run.js";

// The commands choose their own backend: once per suite (the tracepoint run), as the README quick start.
const skip = kernelSkipReason() ?? onePassSkipReason() ?? slowInVmSkipReason();
const block = /## Using it[\s\S]*?```sh\n([\s\S]*?)```/.exec(readFileSync(`${ROOT}README.md`, "utf8"))![1]!;
const commands = block
  .split("\n")
  .map((l) => l.replace(/\s+#.*$/, "").trim())
  .filter((l) => l.startsWith("ipft "));

const bin = mkdtempSync(join(tmpdir(), "ipft-bin-"));
const work = mkdtempSync(join(tmpdir(), "ipft-readme-"));

before(() => {
  writeFileSync(join(bin, "ipft"), `#!/bin/sh\nexec "${process.execPath}" "${IPFT}" "$@"\n`);
  chmodSync(join(bin, "ipft"), 0o755);
  // The namespace the selection example names.
  spawnSync("ip", ["netns", "add", "blue"]);
});
after(() => spawnSync("ip", ["netns", "del", "blue"]));

test("the README's usage block has its commands", () => {
  assert.ok(commands.length >= 20, commands.join("\n"));
});

const ONE_SHOT = /^ipft (-l|--features|--test|--gen|--read|--examples|--version|--help)\b/;

for (const cmd of commands) {
  test(`README: ${cmd}`, { skip }, () => {
    // Run in a directory of its own (the -w example writes trace.pcapng, which --read then reads).
    let line = cmd
      .replace("script.lua", `${ROOT}examples/gso.lua`)
      .replace(/(^| )examples\//g, `$1${ROOT}examples/`);
    if (!ONE_SHOT.test(line) && !/ -- /.test(line)) {
      // Before a pipe, if any: `ipft ... -- true | jq .`
      const pipe = line.indexOf(" | ");
      line = pipe < 0 ? `${line} -- true` : `${line.slice(0, pipe)} -- true${line.slice(pipe)}`;
    }
    const r = spawnSync("bash", ["-o", "pipefail", "-c", line], {
      cwd: work,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    const errors = r.stderr
      .split("\n")
      .filter(
        (l) =>
          l.startsWith("ipft: ") &&
          !/^ipft: no packet (.* )?(was seen|matched)|^ipft: no device named|^ipft: -r matches .* left out: /.test(
            l,
          ),
      );
    assert.deepEqual(errors, [], line);
  });
}
