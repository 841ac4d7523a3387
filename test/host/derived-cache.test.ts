// Attach-point discovery through the derived-data cache, on the running kernel's BTF: a hit gives back exactly
// what discovery finds, an entry made from other BTF is a miss; and BTF name lookups agree before and after
// the index is built.
// Needs this machine: /sys/kernel/btf/vmlinux (skipped, saying so, without it).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openDerivedCache } from "../../src/btf/derived-cache.js";
import { Btf } from "../../src/btf/index.js";
import { discoverAttachPoints, discoverAttachPointsCached } from "../../src/plan/attach-points.js";

const PATH = "/sys/kernel/btf/vmlinux";
const skip = existsSync(PATH) ? undefined : `no ${PATH} on this kernel`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "ipft-cache-"));
}

test("cached discovery: the same points as discovery, read back from the cache", { skip }, () => {
  const dir = tmp();
  try {
    const btf = Btf.fromFile(PATH);
    const want = discoverAttachPoints(btf, "vmlinux");
    const c = openDerivedCache(dir)!;
    assert.deepEqual(discoverAttachPointsCached(btf, "vmlinux", c), want, "miss: computed");
    const [entry] = readdirSync(dir);
    assert.match(entry!, /^attach-points-[0-9a-f]{32}\.json$/);
    assert.deepEqual(discoverAttachPointsCached(Btf.fromFile(PATH), "vmlinux", c), want, "hit");
    assert.deepEqual(discoverAttachPointsCached(btf, "other", c)[0]?.module, "other", "module is in the key");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cached discovery: an entry that does not match this BTF is not used", { skip }, () => {
  const dir = tmp();
  try {
    const btf = Btf.fromFile(PATH);
    const want = discoverAttachPoints(btf, "vmlinux");
    const c = openDerivedCache(dir)!;
    discoverAttachPointsCached(btf, "vmlinux", c);
    const file = join(dir, readdirSync(dir)[0]!);
    const [head, body] = readFileSync(file, "utf8").split("\n") as [string, string];
    // A well-formed entry with a correct checksum whose first point names the wrong type id: what a bug in
    // an older ipft or a different kernel's entry under a colliding name would look like.
    const cols = JSON.parse(body) as { btfId: number[]; skbPos: number[] };
    cols.btfId[0] = cols.btfId[1]!;
    const bad = JSON.stringify(cols);
    const sum = createHash("sha256").update(bad).digest("hex");
    writeFileSync(file, `${head.split(" ").slice(0, 4).join(" ")} ${sum}\n${bad}`);
    assert.deepEqual(discoverAttachPointsCached(btf, "vmlinux", c), want);
    // The recomputed entry replaced the bad one.
    assert.equal(readFileSync(file, "utf8").split("\n")[1], body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("name lookups: the first ones (a scan) and later ones (the index) give the same ids", { skip }, () => {
  const names = ["sk_buff", "bpf_func_id", "net_device", "task_struct", "u32", "__u32", "sock", "iphdr"];
  const scanned = Btf.fromFile(PATH);
  const first = names.map((n) => scanned.idsNamed(n));
  const indexed = Btf.fromFile(PATH);
  indexed.buildIndex();
  assert.deepEqual(
    names.map((n) => indexed.idsNamed(n)),
    first,
  );
  assert.ok(first[0]!.length > 0);
});
