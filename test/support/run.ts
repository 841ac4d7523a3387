// Runs the built CLI as a user would, and says whether kernel tests can run here (and why not).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const IPFT = `${ROOT}bin/ipft.js`;
export const SENDER = `${ROOT}dist/src/tools/send-marked.js`;

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function ipft(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  const r = spawnSync(process.execPath, [IPFT, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 120_000,
    maxBuffer: 256 << 20,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function senderArgs(mark: number, extra: string[] = []): string[] {
  return [process.execPath, SENDER, "--mark", String(mark), ...extra];
}

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "kernel has no BTF (/sys/kernel/btf/vmlinux)";
  return undefined;
}

/** Tests that do not depend on the backend under test (IPFT_TEST_BACKEND) but may on the kernel (its BTF
 * layouts, drop reasons, verifier): a guest runs them in its tracepoint run only. */
export function onePassSkipReason(): string | undefined {
  const b = process.env.IPFT_TEST_BACKEND;
  return b && b !== "tracepoint"
    ? `does not depend on the backend under test (-b ${b}): runs in the tracepoint run of the suite`
    : undefined;
}

/** Tests that depend on neither the backend nor the kernel (the writers, the command line, selection logic
 * that is the same program everywhere): the host runs them; a guest only in the full matrix
 * (IPFT_VM_MATRIX=full, scripts/vm/matrix.sh). */
export function hostOnlySkipReason(): string | undefined {
  if (!process.env.IPFT_VM_KERNEL || process.env.IPFT_VM_MATRIX === "full") return undefined;
  return "depends on neither the backend nor the kernel: runs on the host (and in the VM's full matrix)";
}

/** Commands that choose their own backend attach every skb function: on a kernel without kprobe-multi,
 * under qemu TCG, that is one kprobe at a time and takes minutes per command. */
export function slowInVmSkipReason(): string | undefined {
  if (!process.env.IPFT_VM_KERNEL) return undefined;
  const f = ipft(["--features"]);
  return /^kprobe-multi\s+yes\b/m.test(f.stdout)
    ? undefined
    : `no kprobe-multi on this kernel (${process.env.IPFT_VM_KERNEL}): attaching every skb function one by one takes minutes under qemu TCG`;
}

/** BPF programs, maps and links the kernel holds right now (ids from bpftool, or /proc fdinfo counts). */
export function kernelObjects(): { progs: number; maps: number; links: number } {
  const count = (what: string) => {
    const r = spawnSync("bpftool", [what, "show", "-j"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bpftool ${what} show failed: ${r.stderr}`);
    return (JSON.parse(r.stdout || "[]") as unknown[]).length;
  };
  return { progs: count("prog"), maps: count("map"), links: count("link") };
}

/** A baseline: the counts once they have stopped changing (a previous run's objects may still be freed). */
export function stableObjects(): { progs: number; maps: number; links: number } {
  let prev = kernelObjects();
  for (let i = 0; i < 30; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    const now = kernelObjects();
    if (now.progs === prev.progs && now.maps === prev.maps && now.links === prev.links) return now;
    prev = now;
  }
  return prev;
}

/** Waits (up to 3 s) for the kernel to free what a finished process held: it does so asynchronously. */
export function settledObjects(want: { progs: number; maps: number; links: number }): {
  progs: number;
  maps: number;
  links: number;
} {
  const end = Date.now() + 3000;
  let now = kernelObjects();
  while (
    Date.now() < end &&
    (now.progs !== want.progs || now.maps !== want.maps || now.links !== want.links)
  ) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    now = kernelObjects();
  }
  return now;
}

export function hasTool(name: string): boolean {
  return (
    ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => existsSync(`${d}/${name}`)) ||
    readdirSync("/usr/local/bin").includes(name)
  );
}

/** ipft's `-o json` output: one object per line (any other line is left out). */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as T);
}
