// The derived-data cache: a hit gives back exactly what discovery finds, and anything that is not an intact
// entry of ours (torn, edited, someone else's, made from other BTF) is a miss, never an answer.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cacheDir, openDerivedCache } from "../../src/btf/derived-cache.js";
import { Btf } from "../../src/btf/index.js";
import { discoverAttachPoints, discoverAttachPointsCached } from "../../src/plan/attach-points.js";

const PATH = "/sys/kernel/btf/vmlinux";
const skip = existsSync(PATH) ? undefined : `no ${PATH} on this kernel`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "ipft-cache-"));
}

const isObj = (v: unknown): v is { a: number } => typeof v === "object" && v !== null && "a" in v;

test("cacheDir: IPFT_CACHE_DIR, empty turns it off, then XDG_CACHE_HOME, then HOME", () => {
  assert.equal(cacheDir({ IPFT_CACHE_DIR: "/x", XDG_CACHE_HOME: "/y" }), "/x");
  assert.equal(cacheDir({ IPFT_CACHE_DIR: "", XDG_CACHE_HOME: "/y" }), undefined);
  assert.equal(cacheDir({ XDG_CACHE_HOME: "/y", HOME: "/h" }), "/y/ipft");
  assert.equal(cacheDir({ HOME: "/h" }), "/h/.cache/ipft");
  assert.equal(cacheDir({}), undefined);
  assert.equal(openDerivedCache(""), undefined);
});

test("a stored value comes back; a torn or edited entry, or another key, does not", () => {
  const dir = tmp();
  try {
    const c = openDerivedCache(join(dir, "sub"))!;
    assert.equal(c.put("k", "abc", { a: 1 }), true);
    assert.deepEqual(c.get("k", "abc", isObj), { a: 1 });
    assert.equal(c.get("k", "abd", isObj), undefined, "other key");
    assert.equal(c.get("j", "abc", isObj), undefined, "other kind");
    assert.equal(
      c.get("k", "abc", (v): v is never => false),
      undefined,
      "the caller's check decides",
    );
    const file = join(dir, "sub", "k-abc.json");
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.replace('"a":1', '"a":2'));
    assert.equal(c.get("k", "abc", isObj), undefined, "edited body: checksum differs");
    writeFileSync(file, whole.slice(0, -3));
    assert.equal(c.get("k", "abc", isObj), undefined, "torn write");
    writeFileSync(file, whole);
    assert.deepEqual(c.get("k", "abc", isObj), { a: 1 });
    chmodSync(file, 0o666);
    assert.equal(c.get("k", "abc", isObj), undefined, "a file others may write is not trusted");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an unwritable place is no error: put says false", () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, "file"), "");
    const c = openDerivedCache(join(dir, "file", "sub"))!;
    assert.equal(c.put("k", "abc", { a: 1 }), false);
    assert.equal(c.get("k", "abc", isObj), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("only the newest entries of a kind are kept", () => {
  const dir = tmp();
  try {
    const c = openDerivedCache(dir)!;
    for (let i = 0; i < 20; i++) c.put("k", `key${i}`, { a: i });
    c.put("other", "x", { a: 0 });
    const names = readdirSync(dir);
    assert.equal(names.filter((n) => n.startsWith("k-")).length, 16);
    assert.ok(names.includes("other-x.json"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

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
