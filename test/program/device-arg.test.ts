// The device a tracepoint passes as an argument (net_dev_xmit's dev): found in BTF by type, and read from
// the context by the device part (-w) and the device and namespace tests instead of skb->dev.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { type Insn, op } from "../../src/asm/index.js";
import { TracepointBackend } from "../../src/backends/tracepoint.js";
import { loadKernelBtf } from "../../src/btf/index.js";
import { discoverAttachPoints } from "../../src/plan/attach-points.js";
import { deviceArgOf, deviceArgs } from "../../src/plan/device-args.js";
import { buildMainProgram } from "../../src/program/main-program.js";
import { mainProgramFor } from "../../src/session/load.js";
import { LAYOUT, mainSpec } from "./fixtures.js";

/** Loads of a u64 from the context (R6) at `off`. */
const ctxLoads = (p: Insn[], off: number) =>
  p.filter((i) => i.code === (op.LDX | op.DW | op.MEM) && i.src === 6 && i.off === off).length;
/** Probe reads whose source is skb (R7) + skb->dev's offset. */
const skbDevReads = (p: Insn[]) =>
  p.filter(
    (i, k) =>
      i.code === (op.ALU64 | op.ADD | op.K) && i.dst === 3 && i.imm === LAYOUT.dev && p[k - 1]?.src === 7,
  ).length;

test("the device tests and the device part read the tracepoint's device argument, else skb->dev", () => {
  const select = { markTest: false, ifname: "veth0", netnsInum: 4026531840, layout: LAYOUT };
  const extras = { snaplen: 0, stack: "off" as const, skb: LAYOUT, device: LAYOUT };
  const withArg = buildMainProgram(mainSpec({ select, extras, devArg: 2 })).insns;
  // Two loads of argument 2 (the selection's, the device part's), no read of skb->dev.
  assert.equal(ctxLoads(withArg, 16), 2);
  assert.equal(skbDevReads(withArg), 0);
  const without = buildMainProgram(mainSpec({ select, extras })).insns;
  assert.equal(ctxLoads(without, 16), 0);
  assert.equal(skbDevReads(without), 2);
});

test("a tracepoint unit carries its device argument into its program", () => {
  const p = {
    name: "net_dev_xmit",
    module: "vmlinux",
    kind: "tracepoint" as const,
    skbPos: 1,
    nargs: 4,
    btfId: 1,
  };
  const q = { ...p, name: "net_dev_queue", nargs: 1, btfId: 2 };
  const [u, v] = new TracepointBackend(() => 1n, new Map(), new Map([[p, 2]])).units([p, q]);
  assert.equal(u!.devArg, 2);
  assert.equal(v!.devArg, undefined);
  const inputs = { markOffset: 164, mark: 0, mask: 0, ringFd: 7, lostFd: 8, probeRead: 113, module: [] };
  const select = { markTest: false, ifindex: 3, layout: LAYOUT };
  assert.equal(ctxLoads(mainProgramFor(u!, { ...inputs, select }).insns, 16), 1);
  assert.equal(ctxLoads(mainProgramFor(v!, { ...inputs, select }).insns, 16), 0);
});

test("this kernel's BTF: net_dev_xmit and net_dev_start_xmit pass the device, by type", {
  skip: existsSync("/sys/kernel/btf/vmlinux") ? undefined : "no /sys/kernel/btf/vmlinux",
}, () => {
  const btf = loadKernelBtf().vmlinux;
  const points = discoverAttachPoints(btf, "vmlinux");
  const tp = (name: string) => points.find((p) => p.kind === "tracepoint" && p.name === name)!;
  // btf_trace_net_dev_xmit is (void *, skb, rc, dev, skb_len): the device is argument 2.
  assert.equal(deviceArgOf(btf, tp("net_dev_xmit")), 2);
  assert.equal(deviceArgOf(btf, tp("net_dev_start_xmit")), 1);
  for (const name of ["kfree_skb", "consume_skb", "net_dev_queue", "netif_receive_skb"])
    assert.equal(deviceArgOf(btf, tp(name)), undefined, name);
  const all = deviceArgs(btf, points);
  assert.ok([...all.keys()].every((p) => p.kind === "tracepoint"));
  assert.ok(all.size >= 2);
});
