// A function of a kernel module (veth's transmit function) traced on the function backends: kprobes name
// it like any function, fentry needs the module's BTF object next to the function's id in that BTF.
// This machine's kernel has no function backend: the test runs in the VM, once per backend.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeVethPair, netnsSkipReason, trafficCommand, type VethPair } from "../support/netns.js";
import { ipft, jsonLines, kernelSkipReason } from "../support/run.js";

const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const skip =
  kernelSkipReason() ??
  (BACKEND === "tracepoint"
    ? "module functions need a function backend (this run uses tracepoint; the VM runs the others)"
    : undefined) ??
  netnsSkipReason();
const PORT = 7788;
const MARK = 0x5152;
let pair: VethPair | undefined;

before(() => {
  if (!skip) pair = makeVethPair("ipftmod", PORT, MARK);
});
after(() => pair?.remove());

test(`veth_xmit (module veth) is traced with -b ${BACKEND}`, { skip }, (t) => {
  if (!existsSync("/sys/kernel/btf/veth")) {
    t.skip("the veth module has no BTF here");
    return;
  }
  const p = pair!;
  const cmd = trafficCommand({
    kind: "udp",
    serverNs: p.nsB,
    clientNs: p.nsA,
    host: p.addrB,
    port: PORT,
    srcPort: PORT + 1,
    size: 64,
    ready: join(mkdtempSync(join(tmpdir(), "ipft-mod-")), "ready"),
  });
  const r = ipft(["-b", BACKEND, "-m", String(MARK), "-r", "^veth_xmit$", "-o", "json", "-v", "--", ...cmd]);
  assert.equal(r.status, 0, r.stderr);
  const ev = jsonLines<{ module: string; function: string }>(r.stdout);
  // The datagram and its echo each leave through one end of the pair.
  const hits = ev.filter((e) => e.module === "veth" && e.function === "veth_xmit");
  assert.ok(hits.length >= 2, `expected veth_xmit events from module veth, got:\n${r.stdout}\n${r.stderr}`);
  // veth_xmit is the one function; the verdict tracepoints (kfree_skb, consume_skb) are attached with it.
  assert.match(r.stderr, new RegExp(`attached (\\d+) of \\1 .*${BACKEND}: 1\\b`));
});
