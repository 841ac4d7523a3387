// Every drop reason of the running kernel (enum skb_drop_reason in its BTF) has a sentence (explain/), and the
// names ipft reads from BTF are the ones the sentences are keyed by.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { loadKernelBtf } from "../../src/btf/index.js";
import { explainDrop } from "../../src/explain/explanation.js";
import { VerdictNames } from "../../src/session/verdict-names.js";

const PATH = "/sys/kernel/btf/vmlinux";
const skip = existsSync(PATH) ? undefined : `no ${PATH} on this kernel`;

test("every drop reason of this kernel is explained in a sentence", { skip }, () => {
  const btf = loadKernelBtf({ vmlinux: PATH }).vmlinux;
  const names = new VerdictNames(btf, undefined);
  const values = [...btf.enumValues("skb_drop_reason")]
    .filter(([n]) => n.startsWith("SKB_DROP_REASON_") && !/_(MAX|MASK)$/.test(n))
    .map(([, v]) => Number(v));
  assert.ok(values.length > 60, `${values.length} reasons`);
  const unexplained = values.map((v) => names.reason(v)).filter((n) => !explainDrop(n, ""));
  assert.deepEqual(unexplained, []);
});
