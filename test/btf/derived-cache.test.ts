// The derived-data cache: a stored value comes back, and anything that is not an intact entry of ours (torn,
// edited, someone else's) is a miss, never an answer. Discovery through the cache, on the running kernel's
// BTF, is in test/host/derived-cache.test.ts.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cacheDir, openDerivedCache } from "../../src/btf/derived-cache.js";

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
