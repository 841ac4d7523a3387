// Which backends this kernel can load and attach, found by trying the smallest real thing of each kind,
// not by reading the kernel's config. Each answer says why not.
import { closeSync, openSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { asm, encode, type Insn } from "../asm/index.js";
import { UserError } from "../core/errors.js";
import type { BackendName } from "../core/names.js";
import { attachKprobe } from "../link/kprobe.js";
import { attachKprobeMulti } from "../link/kprobe-multi.js";
import { attachRawTracepoint } from "../link/raw-tracepoint.js";
import { attachTracing } from "../link/tracing.js";
import { createMap, loadProgram, type ProgSpec } from "../sys/bpf.js";
import { AttachType, Helper, MapType, ProgType } from "../sys/bpf-abi.js";
import { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, effectiveCaps, hasCap } from "../sys/caps.js";
import { errnoName, SysError } from "../sys/errno.js";
import { close } from "../sys/libc.js";
import { type KprobePmu, kprobePmu } from "../sys/perf.js";

/** An attach point to try a backend on (the plan's AttachPoint has these fields). */
export interface ProbeTarget {
  name: string;
  module: string;
  kind: "function" | "tracepoint";
  btfId: number;
}

export interface Feature {
  name: BackendName;
  /** Programs of this backend load and attach. */
  ok: boolean;
  /** Programs of this backend at least load (enough for --test and --gen). */
  loads: boolean;
  reason: string;
}

export interface KernelFeatures {
  backends: Map<BackendName, Feature>;
  kprobePmu?: KprobePmu;
  /** bpf_probe_read_kernel (5.5+) or the older bpf_probe_read. */
  probeRead: number;
  /** kprobe programs may call bpf_get_func_ip (5.15+). */
  kprobeFuncIp: boolean;
}

const RET0: Insn[] = [asm.mov64Imm(0, 0), asm.exit()];

function tryLoad(spec: Omit<ProgSpec, "insns" | "name">, insns: Insn[] = RET0): { fd: number; why: string } {
  const r = loadProgram({ ...spec, insns: encode(insns), name: "ipft_probe" });
  if (r.fd >= 0) return { fd: r.fd, why: "" };
  const last = r.log.trim().split("\n").pop() ?? "";
  return { fd: -1, why: `${errnoName(r.errno)}${last ? `: ${last}` : ""}` };
}

/** Can this program type call helper `id`? */
function helperWorks(progType: number, id: number, setup: Insn[] = []): boolean {
  const r = tryLoad({ type: progType }, [...setup, asm.call(id), asm.mov64Imm(0, 0), asm.exit()]);
  close(r.fd);
  return r.fd >= 0;
}

/** A probe's verdict once its program loaded: attached (link >= 0) or not; both fds are closed. */
function attached(name: BackendName, progFd: number, link: number, target: string, what: string): Feature {
  close(link);
  close(progFd);
  if (link < 0)
    return { name, ok: false, loads: true, reason: `cannot attach ${target} (${errnoName(-link)})` };
  return { name, ok: true, loads: true, reason: `${what} attached` };
}

function probeTracepoint(tp: ProbeTarget | undefined): Feature {
  const name = "tracepoint" as const;
  if (!tp) return { name, ok: false, loads: false, reason: "BTF lists no tracepoint that carries an skb" };
  const p = tryLoad({ type: ProgType.RAW_TRACEPOINT });
  if (p.fd < 0)
    return { name, ok: false, loads: false, reason: `cannot load a raw_tracepoint program (${p.why})` };
  return attached(
    name,
    p.fd,
    attachRawTracepoint(p.fd, tp.name),
    `tracepoint ${tp.name}`,
    `raw tracepoint ${tp.name}`,
  );
}

function probeKprobe(fn: ProbeTarget | undefined, pmu: KprobePmu | { reason: string }): Feature {
  const name = "kprobe" as const;
  if (!fn) return { name, ok: false, loads: false, reason: "BTF lists no function that takes an skb" };
  const p = tryLoad({ type: ProgType.KPROBE });
  if (p.fd < 0) return { name, ok: false, loads: false, reason: `cannot load a kprobe program (${p.why})` };
  if ("reason" in pmu) {
    close(p.fd);
    return { name, ok: false, loads: true, reason: noKprobePmuReason(pmu.reason, kernelConfig()) };
  }
  return attached(
    name,
    p.fd,
    attachKprobe(p.fd, pmu, fn.name),
    `a kprobe to ${fn.name}`,
    `kprobe on ${fn.name}`,
  );
}

function probeKprobeMulti(fn: ProbeTarget | undefined): Feature {
  const name = "kprobe-multi" as const;
  if (!fn) return { name, ok: false, loads: false, reason: "BTF lists no function that takes an skb" };
  const p = tryLoad({ type: ProgType.KPROBE, expectedAttachType: AttachType.TRACE_KPROBE_MULTI });
  if (p.fd < 0)
    return {
      name,
      ok: false,
      loads: false,
      reason: `cannot load a kprobe.multi program (${p.why}; needs Linux 5.18)`,
    };
  const r = attachKprobeMulti(p.fd, [fn.name], false);
  for (const l of r.links) close(l);
  close(p.fd);
  if (r.failed.length > 0) {
    const e = r.failed[0]!.errno;
    const why = e === 95 || e === 524 ? "kernel built without CONFIG_FPROBE" : errnoName(e);
    return { name, ok: false, loads: true, reason: `cannot attach kprobe.multi to ${fn.name} (${why})` };
  }
  return { name, ok: true, loads: true, reason: `kprobe.multi on ${fn.name} attached` };
}

function probeFtrace(fn: ProbeTarget | undefined): Feature {
  const name = "ftrace" as const;
  if (!fn) return { name, ok: false, loads: false, reason: "BTF lists no function that takes an skb" };
  const p = tryLoad({
    type: ProgType.TRACING,
    expectedAttachType: AttachType.TRACE_FENTRY,
    attachBtfId: fn.btfId,
  });
  if (p.fd < 0) {
    return {
      name,
      ok: false,
      loads: false,
      reason: `cannot load an fentry program for ${fn.name} (${fentryRefusal(p.why, systemFacts())})`,
    };
  }
  const link = attachTracing(p.fd, AttachType.TRACE_FENTRY);
  return attached(name, p.fd, link, `fentry to ${fn.name}`, `fentry on ${fn.name}`);
}

/** What explains a refusal: this process's capabilities and the function tracer's state. */
export interface RefusalFacts {
  /** Effective capabilities (CapEff), if known. */
  caps?: bigint;
  /** The error opening tracefs's available_filter_functions ("EPERM"), or "" if it opens. */
  filterFunctions?: string;
}

function systemFacts(): RefusalFacts {
  let filterFunctions: string | undefined;
  try {
    closeSync(openSync("/sys/kernel/tracing/available_filter_functions", "r"));
    filterFunctions = "";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") filterFunctions = code ?? "error";
  }
  return { caps: effectiveCaps(), filterFunctions };
}

/**
 * Why an fentry program does not load, from the kernel's answer (`EPERM` or `EPERM: last log line`).
 * bpf(BPF_PROG_LOAD) answers EPERM for a tracing program when the caller lacks CAP_BPF or CAP_PERFMON (or
 * CAP_SYS_ADMIN); with them, the EPERM comes from a security module or a kernel policy, which no
 * capability lifts: say so, with what points there.
 */
export function fentryRefusal(why: string, facts: RefusalFacts): string {
  if (!why.startsWith("EPERM")) return why;
  const c = facts.caps;
  if (c === undefined) return `${why}: run ipft as root (fentry programs need CAP_BPF and CAP_PERFMON)`;
  const privileged = hasCap(c, CAP_SYS_ADMIN) || (hasCap(c, CAP_BPF) && hasCap(c, CAP_PERFMON));
  if (!privileged)
    return `${why}: fentry programs need CAP_BPF and CAP_PERFMON, which ipft lacks; run it as root`;
  const tracer =
    facts.filterFunctions === "EPERM"
      ? "; the function tracer refuses root too (tracefs available_filter_functions: EPERM)"
      : "";
  return (
    `${why}, though ipft has CAP_BPF and CAP_PERFMON: this kernel refuses fentry (BPF trampoline) ` +
    `programs, so a security module or kernel policy blocks them, not missing rights${tracer}; see ` +
    "dmesg | grep -i lockdown and /sys/kernel/security/lockdown, and use -b tracepoint"
  );
}

/** The kernel's build configuration from /proc/config.gz (CONFIG_IKCONFIG_PROC), or undefined. */
function kernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync("/proc/config.gz")).toString("latin1");
  } catch {
    return undefined;
  }
}

/** Why there is no kprobe PMU: the config says so when the kernel publishes it, else the guess given. */
export function noKprobePmuReason(guess: string, config: string | undefined): string {
  if (config === undefined) return guess;
  for (const opt of ["CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS"]) {
    if (!new RegExp(`^${opt}=y`, "m").test(config))
      return `no kprobe PMU: this kernel is built without ${opt} (/proc/config.gz); use -b tracepoint`;
  }
  return guess;
}

/** Fails with one line when this process may not use bpf(2) at all (not root, no CAP_BPF). */
export function requireBpf(): void {
  try {
    close(
      createMap({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: "ipft_probe" }),
    );
  } catch (e) {
    if (e instanceof SysError && (e.errno === 1 || e.errno === 13)) {
      throw new UserError(
        "ipft needs root (or CAP_BPF and CAP_PERFMON) to load eBPF programs; run it with sudo",
      );
    }
    throw e;
  }
}

/** A function to try backends on: a common, always-built-in one if BTF has it. */
function sampleFunction(points: ProbeTarget[]): ProbeTarget | undefined {
  const fns = points.filter((p) => p.kind === "function" && p.module === "vmlinux");
  for (const want of ["kfree_skb_reason", "sk_skb_reason_drop", "consume_skb", "__kfree_skb", "skb_clone"]) {
    const f = fns.find((p) => p.name === want);
    if (f) return f;
  }
  return fns[0];
}

export function probeFeatures(points: ProbeTarget[], only?: BackendName[]): KernelFeatures {
  const fn = sampleFunction(points);
  const tp =
    points.find((p) => p.kind === "tracepoint" && p.name === "netif_receive_skb") ??
    points.find((p) => p.kind === "tracepoint");
  const pmu = kprobePmu();
  const want = (n: BackendName) => !only || only.includes(n);
  const backends = new Map<BackendName, Feature>();
  const skip = (name: BackendName): Feature => ({ name, ok: false, loads: false, reason: "not probed" });
  backends.set("kprobe-multi", want("kprobe-multi") ? probeKprobeMulti(fn) : skip("kprobe-multi"));
  backends.set("kprobe", want("kprobe") ? probeKprobe(fn, pmu) : skip("kprobe"));
  backends.set("ftrace", want("ftrace") ? probeFtrace(fn) : skip("ftrace"));
  backends.set("tracepoint", want("tracepoint") ? probeTracepoint(tp) : skip("tracepoint"));
  const probeRead = helperWorks(ProgType.RAW_TRACEPOINT, Helper.probe_read_kernel, readSetup())
    ? Helper.probe_read_kernel
    : Helper.probe_read;
  const kprobeFuncIp = helperWorks(ProgType.KPROBE, Helper.get_func_ip, [asm.mov64Reg(1, 1)]);
  return { backends, ...("reason" in pmu ? {} : { kprobePmu: pmu }), probeRead, kprobeFuncIp };
}

/** Arguments for a probe_read call: 8 bytes from address 0 into the stack. */
function readSetup(): Insn[] {
  return [asm.mov64Reg(1, 10), asm.alu64Imm(asm.ADD, 1, -8), asm.mov64Imm(2, 8), asm.mov64Imm(3, 0)];
}
