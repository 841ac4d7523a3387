// -w's file as a session opens it: its interfaces declare the snaplen the programs cut packets to.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sessionConfig } from "../../src/cli/config.js";
import { parseArgs } from "../../src/cli/options.js";
import { readPcapngFile } from "../../src/pcapng/reader.js";
import { TraceFile } from "../../src/session/pcapng-file.js";
import { StopSignal } from "../../src/session/stop-signal.js";
import { records, symbolizer } from "../output/records.js";

/** One event with packet bytes and one without, through the file a session opens for these options. */
function interfacesOf(args: string[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), "ipft-trace-file-"));
  try {
    const path = join(dir, "t.pcapng");
    const file = TraceFile.open(sessionConfig(parseArgs(["-m", "1", "-w", path, ...args])));
    assert.ok(file);
    const out = file.start({ symbolizer, verdicts: { reason: String, location: String } }, new StopSignal());
    const dv = records([
      { skb: 1n, ts: 1n, func: 7n, cpu: 0, packet: { bytes: [0x45, 0, 0, 20], wireLen: 20, link: 1 } },
    ]);
    out.write(dv, 0, 1);
    file.close();
    return readPcapngFile(path).interfaces.map((i) => i.snaplen);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a -w file's interfaces declare the snaplen packets are cut to: 256 by default, else --snaplen's", () => {
  assert.deepEqual(interfacesOf([]), [256]);
  assert.deepEqual(interfacesOf(["--snaplen", "64"]), [64]);
  assert.deepEqual(interfacesOf(["--snaplen", "0"]), [0], "--snaplen 0: no bytes, no limit declared");
});
