// Every command of the README's "Using it" block, run for real as a user would type it (with `ipft` on the
// PATH): a tracing command without a command of its own gets one that makes the traffic it selects (marked
// datagrams to a closed port, so they are also dropped; marked TCP connection attempts; datagrams on a
// device of the namespace blue), so each one starts, traces packets and ends. Each must exit 0, print no
// error line, and show what it traced: no "no packet was seen", and a trace on standard output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  IPFT,
  kernelSkipReason,
  onePassSkipReason,
  ROOT,
  SENDER,
  slowInVmSkipReason,
} from "../support/run.js";

// The commands choose their own backend: once per suite (the tracepoint run), as the README quick start.
const skip = kernelSkipReason() ?? onePassSkipReason() ?? slowInVmSkipReason();
const block = /## Using it[\s\S]*?```sh\n([\s\S]*?)```/.exec(readFileSync(`${ROOT}README.md`, "utf8"))![1]!;
const commands = block
  .split("\n")
  .map((l) => l.replace(/\s+#.*$/, "").trim())
  .filter((l) => l.startsWith("ipft "));

const BLUE_NET = "192.0.2";
/** Commands whose standard output is a trace: the tracing ones and --read. */
const TRACES = /^ipft (?!-l|--features|--test|--gen|--examples|--version|--help|--wireshark-plugin)/;

const bin = mkdtempSync(join(tmpdir(), "ipft-bin-"));
const work = mkdtempSync(join(tmpdir(), "ipft-readme-"));

before(() => {
  writeFileSync(join(bin, "ipft"), `#!/bin/sh\nexec "${process.execPath}" "${IPFT}" "$@"\n`);
  chmodSync(join(bin, "ipft"), 0o755);
  // The namespace and device the selection example names: veth1, with a peer, in blue.
  spawnSync("ip", ["netns", "add", "blue"]);
  for (const args of [
    "link add veth1 type veth peer name veth1p",
    `addr add ${BLUE_NET}.1/24 dev veth1`,
    "link set veth1 up",
    "link set veth1p up",
  ])
    spawnSync("ip", ["-n", "blue", ...args.split(" ")]);
});
after(() => spawnSync("ip", ["netns", "del", "blue"]));

test("the README's usage block has its commands", () => {
  assert.ok(commands.length >= 20, commands.join("\n"));
});

const ONE_SHOT = /^ipft (-l|--features|--test|--gen|--read|--examples|--version|--help|--wireshark-plugin)\b/;
/** The traffic `line` selects, made by the bundled sender. */
function traffic(line: string): string {
  const send = `${process.execPath} ${SENDER}`;
  const mark = /-m (\S+)/.exec(line)?.[1] ?? "1";
  // An address on veth1's subnet that no one has: the datagram waits for ARP, whose request leaves on veth1.
  // Unmarked: it waits for ARP, then is dropped seconds later, when a later test may trace marked packets.
  if (/--netns blue/.test(line))
    return `ip netns exec blue ${send} --mark 0 --addr ${BLUE_NET}.9 --count 1 --closed`;
  if (/tcp port 443/.test(line)) return `${send} --mark ${mark} --tcp --port 443 --count 2`;
  if (/udp dst port 53/.test(line)) return `${send} --port 53 --count 2 --closed`;
  return `${send} --mark ${mark} --count 2 --closed`;
}

for (const cmd of commands) {
  test(`README: ${cmd}`, { skip }, () => {
    // Run in a directory of its own (the -w example writes trace.pcapng, which --read then reads).
    let line = cmd
      .replace("script.lua", `${ROOT}examples/gso.lua`)
      .replace(/(^| )examples\//g, `$1${ROOT}examples/`);
    if (!ONE_SHOT.test(line) && !/ -- /.test(line)) {
      // Before a pipe, if any: `ipft ... -- true | jq .`
      const pipe = line.indexOf(" | ");
      const cmd = ` -- ${traffic(line)}`;
      line = pipe < 0 ? `${line}${cmd}` : `${line.slice(0, pipe)}${cmd}${line.slice(pipe)}`;
    }
    const r = spawnSync("bash", ["-o", "pipefail", "-c", line], {
      cwd: work,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    const errors = r.stderr.split("\n").filter(
      (l) =>
        l.startsWith("ipft: ") &&
        !/^ipft: -r matches .* left out: /.test(l) &&
        // --nft-trace names the table it adds: a notice, not an error.
        !/^ipft: added nft table inet ipft_trace_\d+: .* \(removed at exit\)$/.test(l),
    );
    assert.deepEqual(errors, [], line);
    if (TRACES.test(line)) assert.notEqual(r.stdout.trim(), "", `${line}: no trace on standard output`);
  });
}
