// Scripts in ipftrace2's register habits, loaded by the kernel and run on real loopback traffic: saving all
// of R6-R9 at entry (and loading them back at the end), and reading every register R0-R9 at entry. The
// verifier refuses a read of a register that was never written, so these pass only if ipft's program gives
// every one of them a value before the module.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadKernelBtf } from "../../src/btf/index.js";
import { ipft, jsonLines, kernelSkipReason, ROOT, senderArgs } from "../support/run.js";

const skip = kernelSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const FIXTURES = `${ROOT}test/script/fixtures/`;
// skb->len = UDP payload + these bytes at each attach point (see script.test.ts).
const OVERHEAD: Record<string, number> =
  BACKEND === "tracepoint"
    ? { net_dev_queue: 42, netif_receive_skb: 28 }
    : { __dev_queue_xmit: 42, __netif_receive_skb: 28 };
const SIZE = 100;

interface Ev {
  skb: string;
  function: string;
  data: string;
}

function trace(script: string): Ev[] {
  const r = ipft([
    "-b",
    BACKEND,
    "-r",
    `^(${Object.keys(OVERHEAD).join("|")})$`,
    "-m",
    "0x2a",
    "-s",
    `${FIXTURES}${script}`,
    "-o",
    "json",
    "--",
    ...senderArgs(0x2a, ["--count", "2", "--size", String(SIZE)]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  // The verdict tracepoints are traced whatever -r says; consume_skb fires for these packets on some
  // kernels (6.1) and not on others: only the -r points are checked.
  const ev = jsonLines<Ev>(r.stdout).filter(
    (e) => e.function !== "consume_skb" && e.function !== "kfree_skb",
  );
  assert.deepEqual(
    [...new Set(ev.map((e) => e.function))].sort(),
    Object.keys(OVERHEAD).sort(),
    "every attach point saw the packets",
  );
  assert.equal(ev.length, 2 * Object.keys(OVERHEAD).length);
  return ev;
}

for (const script of ["save-restore-all.lua", "read-all-registers.lua", "gso-saved-regs.lua"]) {
  test(`${script} passes the verifier on every attach point (--test, ${BACKEND})`, { skip }, () => {
    const r = ipft(["--test", "-b", BACKEND, "-s", `${FIXTURES}${script}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /ok: \d+ programs passed the verifier/);
  });
}

test(`saving and restoring R6-R9: the module runs, leaves the skb (${BACKEND})`, { skip }, () => {
  for (const e of trace("save-restore-all.lua")) assert.equal(e.data, `skb=${e.skb}`);
});

test(`reading every register at entry: R3 is the skb, R4, R5, R8 and R9 are 0 (${BACKEND})`, { skip }, () => {
  for (const e of trace("read-all-registers.lua")) {
    const r = Object.fromEntries(e.data.split(" ").map((kv) => kv.split("=") as [string, string]));
    assert.equal(r.r3, e.skb, e.data);
    assert.deepEqual([r.r4, r.r5, r.r8, r.r9], ["0x0", "0x0", "0x0", "0x0"], e.data);
    assert.notEqual(r.r2, "0x0", `R2 is the context: ${e.data}`);
  }
});

test(`R5 at the drop: the verdict (1) and the drop reason, from this kernel's enum (${BACKEND})`, {
  skip,
}, () => {
  const r = ipft([
    "-b",
    BACKEND,
    "-r",
    "^kfree_skb$",
    "-m",
    "0x2b",
    "-s",
    `${FIXTURES}read-all-registers.lua`,
    "-o",
    "json",
    "--",
    ...senderArgs(0x2b, ["--count", "2", "--closed", "--port", "9604"]),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const noSocket = loadKernelBtf().vmlinux.enumValues("skb_drop_reason").get("SKB_DROP_REASON_NO_SOCKET")!;
  const drops = jsonLines<Ev & { verdict?: string }>(r.stdout).filter((e) => e.verdict === "drop");
  assert.equal(drops.length, 2, r.stdout);
  for (const e of drops) {
    const r5 = /r5=(0x[0-9a-f]+)/.exec(e.data)![1]!;
    assert.equal(BigInt(r5), (noSocket << 8n) | 1n, e.data);
  }
});

test(`a GSO script using the saved R6-R9 reads each length (${BACKEND})`, { skip }, () => {
  for (const e of trace("gso-saved-regs.lua")) {
    const len = SIZE + OVERHEAD[e.function]!;
    assert.match(e.data, new RegExp(`^\\(len ${len} data_len 0 gso_size 0 gso_segs \\d+\\)$`), e.function);
  }
});
