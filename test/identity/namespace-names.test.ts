// Namespace names from a /proc and a /run/netns made by the test: ip netns's names by the bind mount's
// inode, else the lowest pid's command and container, else the inode; each looked up once and kept.
// test/host/namespace-names.test.ts checks the same on this machine with `ip netns add`.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { containerOf, NamespaceNames } from "../../src/identity/index.js";

const HEX = `3f2a1b4c5d6e${"7f80".repeat(13)}`; // 64 hex digits, as runtimes name containers
const ID12 = HEX.slice(0, 12);

function fakeRoot() {
  const root = mkdtempSync(join(tmpdir(), "ipft-nsnames-"));
  const proc = join(root, "proc");
  const netns = join(root, "netns");
  mkdirSync(proc);
  mkdirSync(netns);
  const processes = {
    add(pid: number, inode: number, comm: string, cgroup = "0::/user.slice\n") {
      const dir = join(proc, String(pid));
      mkdirSync(join(dir, "ns"), { recursive: true });
      symlinkSync(`net:[${inode}]`, join(dir, "ns", "net")); // as the kernel's nsfs links read
      writeFileSync(join(dir, "comm"), `${comm}\n`);
      writeFileSync(join(dir, "cgroup"), cgroup);
    },
    move(pid: number, inode: number) {
      unlinkSync(join(proc, String(pid), "ns", "net"));
      symlinkSync(`net:[${inode}]`, join(proc, String(pid), "ns", "net"));
    },
    remove(pid: number) {
      rmSync(join(proc, String(pid)), { recursive: true });
    },
    /** A name as `ip netns add` makes it; its inode stands for the namespace's (the bind mount's). */
    named(name: string): number {
      writeFileSync(join(netns, name), "");
      return statSync(join(netns, name)).ino;
    },
  };
  return { root, proc, netns, processes };
}

test("the name ip netns gave, by the bind mount's inode, before any process", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  const blue = f.processes.named("blue");
  const red = f.processes.named("red");
  f.processes.add(50, blue, "sleep");
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.deepEqual(names.lookup(blue), { inode: blue, text: "blue", source: "ip-netns" });
  assert.equal(names.text(red), "red");
});

test("else the lowest pid holding it (by number, not by text), its command and container", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  f.processes.add(1000, 200, "nginx");
  f.processes.add(300, 200, "sleep");
  f.processes.add(1, 100, "systemd", "0::/init.scope\n");
  f.processes.add(500, 300, "nginx", `0::/system.slice/docker-${HEX}.scope\n`);
  const pod = "1234abcd_5678_90ab_cdef_1234567890ab";
  f.processes.add(
    600,
    400,
    "pause",
    `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod}.slice/cri-containerd-${HEX}.scope\n`,
  );
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.deepEqual(names.lookup(200), {
    inode: 200,
    text: "sleep[300]",
    source: "process",
    pid: 300,
    command: "sleep",
  });
  assert.equal(names.text(100), "systemd[1]");
  assert.deepEqual(names.lookup(300), {
    inode: 300,
    text: `docker:${ID12}/nginx[500]`,
    source: "process",
    pid: 500,
    command: "nginx",
    container: { runtime: "docker", id: ID12 },
  });
  assert.equal(names.text(400), "pod:1234abcd-5678-90ab-cdef-1234567890ab/pause[600]");
});

test("the initial namespace, kthreadd's, is 'root' whichever pid is lowest in it", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  f.processes.add(2, 100, "kthreadd");
  f.processes.add(1, 100, "systemd", "0::/init.scope\n");
  f.processes.add(3, 200, "kthreadd"); // not pid 2 (a pid namespace's own numbering): an ordinary process
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.deepEqual(names.lookup(100), { inode: 100, text: "root", source: "root" });
  assert.equal(names.text(200), "kthreadd[3]");
});

test("else the inode; 0 (no namespace) is '-'; missing roots are no error", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.deepEqual(names.lookup(4026532000), {
    inode: 4026532000,
    text: "netns:4026532000",
    source: "inode",
  });
  assert.equal(names.text(0), "-");
  const none = new NamespaceNames({ proc: join(f.root, "absent"), netns: join(f.root, "absent") });
  assert.equal(none.text(7), "netns:7");
});

test("each namespace is looked up once: a name is kept when its namespace goes; a new one is found", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  f.processes.add(10, 200, "sleep");
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.equal(names.text(200), "sleep[10]");
  assert.equal(names.text(300), "netns:300", "nobody holds it yet");
  f.processes.remove(10);
  f.processes.add(20, 300, "late");
  f.processes.add(30, 500, "later");
  assert.equal(names.text(200), "sleep[10]", "kept after the process left");
  assert.equal(names.text(300), "netns:300", "kept: looked up once");
  assert.equal(names.text(500), "later[30]", "a namespace first seen after the last scan of /proc");
});

test("a pid from an earlier scan that left the namespace is not taken for it", (t) => {
  const f = fakeRoot();
  t.after(() => rmSync(f.root, { recursive: true }));
  f.processes.add(10, 200, "a");
  f.processes.add(20, 300, "b");
  const names = new NamespaceNames({ proc: f.proc, netns: f.netns });
  assert.equal(names.text(200), "a[10]"); // the scan saw pid 20 in 300
  f.processes.move(20, 900);
  f.processes.add(40, 300, "c");
  assert.equal(names.text(300), "c[40]");
});

test("container ids from cgroup paths of docker, podman, containerd, CRI-O, LXC and Kubernetes pods", () => {
  const cases: [string, { runtime: string; id: string } | undefined][] = [
    [`0::/system.slice/docker-${HEX}.scope`, { runtime: "docker", id: ID12 }],
    [`12:memory:/docker/${HEX}\n11:cpu:/docker/${HEX}\n`, { runtime: "docker", id: ID12 }],
    [`0::/machine.slice/libpod-${HEX}.scope/container`, { runtime: "podman", id: ID12 }],
    [
      `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${HEX}.scope`,
      { runtime: "podman", id: ID12 },
    ],
    [`0::/system.slice/cri-containerd-${HEX}.scope`, { runtime: "containerd", id: ID12 }],
    [`0::/machine.slice/crio-${HEX}.scope`, { runtime: "crio", id: ID12 }],
    ["0::/lxc.payload.web1/init.scope", { runtime: "lxc", id: "web1" }],
    ["4:pids:/lxc/web2", { runtime: "lxc", id: "web2" }],
    [
      `0::/kubepods/besteffort/pod1234abcd-5678-90ab-cdef-1234567890ab/${HEX}`,
      { runtime: "pod", id: "1234abcd-5678-90ab-cdef-1234567890ab" },
    ],
    ["0::/init.scope", undefined],
    ["0::/user.slice/user-0.slice/session-3.scope", undefined],
    ["0::/docker/not-an-id", undefined],
  ];
  for (const [cgroup, want] of cases) assert.deepEqual(containerOf(cgroup), want, cgroup);
});
