// Namespace names on this machine: a namespace made by `ip netns add` is named as ip netns names it (and as
// `ip netns identify` does); once its name is deleted, by the process still in it; once that process has
// gone, by its inode, while a NamespaceNames that named it earlier keeps the name. Needs root and iproute2;
// run under the host lock (flock /tmp/ipft-host.lock), it makes a named namespace.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readlinkSync, statSync } from "node:fs";
import { test } from "node:test";
import { NamespaceNames } from "../../src/identity/index.js";

const NS = `ipftid${process.pid}`;
const ip = (...args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
const skip =
  process.getuid?.() !== 0
    ? "needs root (ip netns add)"
    : ip("-V").status !== 0
      ? "needs iproute2 (ip)"
      : false;
if (skip) console.log(`# skipping the namespace names tests: ${skip}`);

const inodeOf = (pid: number | "self") => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))![1]);

test("ip netns's name, then the process holding it, then the inode", { skip }, async (t) => {
  assert.equal(ip("netns", "add", NS).status, 0);
  t.after(() => ip("netns", "del", NS));
  const inode = statSync(`/run/netns/${NS}`).ino;
  const first = new NamespaceNames();
  assert.equal(first.text(inode), NS);
  const sleeper = spawn("ip", ["netns", "exec", NS, "sleep", "30"], { stdio: "ignore" });
  t.after(() => sleeper.kill());
  // ip netns exec becomes sleep (exec), so the pid's namespace is the one made above once it has switched.
  for (let i = 0; i < 100 && !(sleeper.pid && inodeOf(sleeper.pid) === inode); i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(inodeOf(sleeper.pid!), inode);
  assert.equal(ip("netns", "identify", String(sleeper.pid)).stdout.trim(), NS, "ip netns agrees");
  assert.equal(ip("netns", "del", NS).status, 0);
  const second = new NamespaceNames();
  const held = second.lookup(inode);
  assert.equal(held.source, "process");
  assert.equal(held.pid, sleeper.pid);
  assert.equal(held.command, "sleep");
  assert.equal(second.text(inode), `sleep[${sleeper.pid}]`);
  const gone = new Promise((r) => sleeper.once("exit", r));
  sleeper.kill();
  await gone;
  assert.equal(new NamespaceNames().text(inode), `netns:${inode}`, "gone: its inode");
  assert.equal(first.text(inode), NS, "a name once found is kept");
});

test("this process's own namespace is named: root when it is the initial one, else by a process in it", {
  skip,
}, () => {
  const n = new NamespaceNames().lookup(inodeOf("self"));
  if (inodeOf(2) === inodeOf("self")) assert.deepEqual(n, { inode: n.inode, text: "root", source: "root" });
  else
    assert.ok(
      n.source === "ip-netns" || (n.source === "process" && n.pid! <= process.pid),
      JSON.stringify(n),
    );
});
