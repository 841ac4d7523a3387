// What `npm pack` ships: the built CLI, the example scripts, the docs and the license, and no tests. A
// fresh checkout (no dist/) packs, installs with npm install -g and runs: the pack builds first.
// Needs this machine: npm and its cache (the packed tarball is installed with npm install -g --prefer-offline
// into a temporary prefix; skipped, saying so, when npm is missing or cannot fetch koffi).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../support/run.js";

const npmMissing = spawnSync("npm", ["--version"]).status !== 0 ? "npm is not installed" : undefined;

function npm(args: string[], cwd: string) {
  return spawnSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    timeout: 300_000,
  });
}

test("npm pack ships dist/src, bin, examples, the Wireshark plugin, docs, README and LICENSE, and no tests", {
  skip: npmMissing,
}, () => {
  // --ignore-scripts: the build is already there, and prepack's rebuild would pull dist/ from under
  // tests running beside this one. The next test checks prepack itself.
  const r = npm(["pack", "--dry-run", "--json", "--ignore-scripts"], ROOT);
  assert.equal(r.status, 0, r.stderr);
  const files = new Set(
    (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path),
  );
  for (const f of [
    "dist/src/cli/main.js",
    "bin/ipft.js",
    "examples/gso.lua",
    "wireshark/ipft.lua",
    "docs/scripting.md",
    "README.md",
    "LICENSE",
    "package.json",
  ])
    assert.ok(files.has(f), `the package has ${f}`);
  const stray = [...files].filter((f) => /^dist\/(test|bench)\//.test(f) || f.startsWith("src/"));
  assert.deepEqual(stray, [], "no tests, benchmarks or TypeScript sources");
  assert.match(
    readFileSync(join(ROOT, "LICENSE"), "utf8"),
    /GNU GENERAL PUBLIC LICENSE\s+Version 2, June 1991/,
  );
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    license: string;
    scripts: Record<string, string>;
  };
  assert.equal(pkg.license, "GPL-2.0-only");
  assert.match(pkg.scripts.prepack ?? "", /tsc -p tsconfig\.json/, "npm pack builds first");
});

test("a fresh checkout packs (building on the way), installs with npm install -g and runs", {
  skip: npmMissing,
  timeout: 600_000,
}, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "ipft-pack-"));
  try {
    // A checkout without dist/: the sources, the package's files and the tools to build them.
    const checkout = join(tmp, "checkout");
    for (const f of [
      "src",
      "test",
      "bench",
      "bin",
      "examples",
      "wireshark",
      "docs",
      "package.json",
      "tsconfig.json",
      "README.md",
      "LICENSE",
    ])
      cpSync(join(ROOT, f), join(checkout, f), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
    const packed = npm(["pack", "--pack-destination", tmp], checkout);
    assert.equal(packed.status, 0, packed.stderr);
    const tgz = readdirSync(tmp).find((f) => /^ipft-.*\.tgz$/.test(f));
    assert.ok(tgz, `npm pack made a tarball\n${packed.stderr}`);

    const prefix = join(tmp, "prefix");
    const inst = npm(["install", "-g", "--prefer-offline", "--prefix", prefix, join(tmp, tgz)], tmp);
    if (inst.status !== 0) {
      if (/ENOTFOUND|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|ETIMEDOUT|ENOTCACHED/.test(inst.stderr)) {
        t.skip(
          `npm cannot install here (no cached koffi and no registry): ${inst.stderr.trim().split("\n")[0]}`,
        );
        return;
      }
      assert.fail(`npm install -g failed:\n${inst.stderr}`);
    }
    const bin = join(prefix, "bin", "ipft");
    const run = (args: string[]) => spawnSync(bin, args, { encoding: "utf8" });
    const version = run(["--version"]);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^ipft \d+\.\d+\.\d+\n$/);
    const examples = run(["--examples"]);
    assert.equal(examples.status, 0, examples.stderr);
    const dir = examples.stdout.trim();
    assert.ok(dir.startsWith(prefix), `${dir} is inside the installed package`);
    assert.ok(existsSync(join(dir, "gso.lua")), `${dir}/gso.lua is there`);
    assert.match(run(["--help"]).stdout, /--examples/);
    const plugin = run(["--wireshark-plugin"]);
    assert.equal(plugin.status, 0, plugin.stderr);
    assert.ok(
      plugin.stdout.trim().startsWith(prefix),
      `${plugin.stdout.trim()} is inside the installed package`,
    );
    assert.ok(existsSync(plugin.stdout.trim()), "the plugin file is there");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
