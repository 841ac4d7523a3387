// One tracing run: plan, build and load every program, attach, read the ring until told to stop, detach,
// print. Everything put into the kernel is closed on every way out (return, error, signal).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { constants } from "node:os";
import { decode, type Insn } from "../asm/index.js";
import type { AttachUnit, Backend } from "../backends/backend.js";
import { FtraceBackend } from "../backends/ftrace.js";
import { KprobeBackend } from "../backends/kprobe.js";
import { KprobeMultiBackend } from "../backends/kprobe-multi.js";
import { TracepointBackend } from "../backends/tracepoint.js";
import type { Options } from "../cli/options.js";
import { UserError } from "../cli/usage-error.js";
import { LostCounter, possibleCpus } from "../events/lost-counter.js";
import { RingReader } from "../events/ring-reader.js";
import { createWriter } from "../output/index.js";
import { probeFeatures } from "../plan/features.js";
import { helperAllowed } from "../plan/helper-access.js";
import { makePlan, type Plan } from "../plan/plan.js";
import { assertModule } from "../program/guard.js";
import { readKprobeBlacklist } from "../symbols/index.js";
import { errnoName } from "../sys/errno.js";
import { AttachIds } from "./attach-ids.js";
import { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";
import { loadUnit, type ProgramInputs } from "./programs.js";
import { ProgressLine } from "./progress-line.js";
import type { ScriptHost } from "./script-host.js";
import type { StopSignal } from "./stop-signal.js";
import { Symbolizer } from "./symbolizer.js";

const DEFAULT_RING = 8 << 20;
const DEFAULT_MAX_TRACES = 5_000_000;

export interface SessionIo {
  out: { write(s: string): void };
  err: (line: string) => void;
  verbose: (line: string) => void;
}

export function stderrIo(verbose: boolean): SessionIo {
  return {
    out: process.stdout,
    err: (l) => process.stderr.write(`ipft: ${l}\n`),
    verbose: (l) => {
      if (verbose) process.stderr.write(`ipft: ${l}\n`);
    },
  };
}

/** For --test and --gen: only -v notes go to stderr. */
export const quietIo = stderrIo;

export interface Prepared {
  plan: Plan;
  backends: { backend: Backend; units: AttachUnit[] }[];
  ids: AttachIds;
  module: Insn[];
  probeRead: number;
}

/** Everything up to (not including) loading: shared by tracing, --test and --gen program. */
export function prepare(
  opts: Options,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  loadOnly = false,
): Prepared {
  const features = probeFeatures(kernel.points, opts.backend ? [opts.backend, "tracepoint"] : undefined);
  const plan = makePlan({
    loadOnly,
    points: kernel.points,
    features,
    ...(opts.backend ? { backend: opts.backend } : {}),
    tracer: opts.tracer,
    ...(opts.regex ? { regex: opts.regex } : {}),
    ...(opts.moduleRegex ? { moduleRegex: opts.moduleRegex } : {}),
    traceable: kernel.traceable,
    kprobeBlacklist: () => readKprobeBlacklist(),
    ...(kernel.kallsyms ? { repeatedNames: () => kernel.kallsyms!.repeatedNames() } : {}),
  });
  for (const n of plan.notes) io.verbose(n);
  if (kernel.traceableReason) io.verbose(kernel.traceableReason);
  const ids = new AttachIds();
  const backends: Prepared["backends"] = [];
  const withReturns = opts.tracer === "function_graph";
  if (plan.functionBackend) {
    let b: Backend;
    switch (plan.functionBackend) {
      case "kprobe":
        b = new KprobeBackend(features.kprobePmu, features.kprobeFuncIp);
        break;
      case "kprobe-multi":
        b = new KprobeMultiBackend();
        break;
      case "ftrace":
        b = new FtraceBackend();
        break;
    }
    backends.push({ backend: b, units: b.units(plan.functions, withReturns) });
  }
  if (plan.tracepoints.length > 0) {
    const b = new TracepointBackend((p) => ids.idOf(p));
    backends.push({ backend: b, units: b.units(plan.tracepoints) });
  }
  let module: Insn[] = [];
  if (script) {
    const bytes = script.emit();
    const progTypes = new Set(
      backends.flatMap((b) => b.units.map((u) => `${u.progType}/${u.expectedAttachType ?? ""}`)),
    );
    assertModule(bytes, {
      allowedHelpers: (id) =>
        [...progTypes].every((k) => {
          const [t, e] = k.split("/");
          return helperAllowed(Number(t), e ? Number(e) : undefined, id);
        }),
      helperName: kernel.helperName,
    });
    module = decode(bytes);
  }
  return { plan, backends, ids, module, probeRead: features.probeRead };
}

export async function runSession(
  opts: Options,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  stop: StopSignal,
): Promise<number> {
  const kobj = new KernelObjects();
  try {
    return await trace(opts, kernel, script, io, stop, kobj);
  } finally {
    kobj.closeAll();
  }
}

async function trace(
  opts: Options,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  stop: StopSignal,
  kobj: KernelObjects,
): Promise<number> {
  const prep = prepare(opts, kernel, script, io);
  const ring = kobj.own(new RingReader(ringSizeOf(opts)));
  const lost = kobj.own(new LostCounter());
  const inputs = programInputsFor(opts, kernel, prep, ring.fd, lost.fd);

  // Load every program first: a verifier rejection must stop us before anything is attached.
  const loadStart = performance.now();
  const loaded: { backend: Backend; unit: AttachUnit; fd: number }[] = [];
  let refused = 0;
  for (const { backend, units } of prep.backends) {
    for (const unit of units) {
      if (stop.stopped) return finishEarly(io);
      const l = loadUnit(unit, inputs);
      if (l.fd < 0) {
        refused++;
        io.verbose(`${unit.points[0]?.name} (${backend.name}) is untraceable: ${l.why}`);
        continue;
      }
      loaded.push({ backend, unit, fd: kobj.add(l.fd) });
    }
  }

  const total =
    prep.plan.functions.length * (opts.tracer === "function_graph" ? 2 : 1) +
    prep.plan.tracepoints.length -
    refused;
  let ok = 0;
  let failed = 0;
  const progress = new ProgressLine();
  const draw = (force = false) =>
    progress.update(
      `Attaching program (total ${total}, succeeded ${ok}, failed ${failed}, filtered: ${prep.plan.filtered}, untraceable: ${prep.plan.untraceable + refused})`,
      force,
    );
  draw(true);
  const attachStart = performance.now();
  let sinceYield = 0;
  const okBy = new Map<string, number>(prep.backends.map((b) => [b.backend.name, 0]));
  for (const l of loaded) {
    const res = l.backend.attach(l.fd, l.unit, (good) => {
      if (good) {
        ok++;
        okBy.set(l.backend.name, okBy.get(l.backend.name)! + 1);
      } else failed++;
      draw();
    });
    for (const fd of res.links) kobj.addLink(fd);
    for (const f of res.failed)
      io.verbose(`attach ${f.point.name} (${l.backend.name}): ${errnoName(f.errno)}`);
    // Let signals in during long attaches.
    sinceYield += l.unit.points.length;
    if (sinceYield >= 64) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
      if (stop.stopped) break;
    }
  }
  draw(true);
  progress.done();
  const byBackend = [...okBy].map(([name, n]) => `${name}: ${n}`);
  io.verbose(
    `attached ${ok} of ${total} in ${Math.round(performance.now() - attachStart)} ms (${byBackend.join(", ")}; loading took ${Math.round(attachStart - loadStart)} ms)`,
  );
  // Stopped while attaching: nothing was traced yet, so there is nothing to print.
  if (stop.stopped) return finishEarly(io);
  if (ok === 0)
    throw new UserError(`no attach point could be attached (${failed} failed; run with -v to see why)`);

  const symbolizer = new Symbolizer(kernel.kallsyms, prep.ids);
  const writer = createWriter(opts.output, {
    out: io.out,
    symbolizer,
    ...(script?.hooks.dump ? { dumper: script } : {}),
    maxTraces: opts.maxTraces ?? DEFAULT_MAX_TRACES,
    graph: opts.tracer === "function_graph",
    err: process.stderr,
    progress: process.stderr.isTTY === true,
  });

  process.stderr.write("Trace ready!\n");
  if (opts.readyFile) writeFileSync(opts.readyFile, "");
  let status = 0;
  if (opts.command.length > 0) {
    const child = spawn(opts.command[0]!, opts.command.slice(1), { stdio: "inherit" });
    child.on("error", (e: NodeJS.ErrnoException) => {
      io.err(`cannot run ${opts.command[0]}: ${e.code === "ENOENT" ? "command not found" : e.message}`);
      status = 127;
      stop.trigger("command failed");
    });
    child.on("exit", (code, sig) => {
      status = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
      // Events of the command's last packets may still be in flight: give them a moment.
      setTimeout(() => stop.trigger("command exited"), 100);
    });
  }

  const handle = (dv: DataView, off: number) => writer.write(dv, off);
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (stop.stopped) return resolve();
      const n = ring.drain(handle, 1 << 16);
      if (n > 0) setImmediate(tick);
      else setTimeout(tick, 2);
    };
    stop.onStop(() => setImmediate(tick));
    tick();
  });

  // Detach first so nothing more arrives, then read what is left.
  kobj.closeLinks();
  ring.drain(handle);
  const lostCount = lost.read();
  process.stderr.write("Trace done!\n");
  writer.finish();
  writer.report(process.stderr);
  if (lostCount > 0) {
    io.err(
      `Lost ${lostCount} traces (the ring buffer was full; try a larger --ring-size or fewer attach points)`,
    );
  }
  if (writer.count === 0 && lostCount === 0) {
    io.err(
      `no packet with mark 0x${opts.mark!.toString(16)}${opts.mask !== 0xffffffff ? `/0x${opts.mask.toString(16)}` : ""} was seen. ` +
        `Is the mark set (iptables/nft MARK, SO_MARK, ping -m ${opts.mark}: ping takes it in decimal)? Does the traffic cross a network namespace (that clears the mark)? ` +
        "Run ipft --features and ipft -v to see the backend and attach points.",
    );
  }
  return status;
}

/** --ring-size, else ipftrace2's --perf-page-count pages per CPU, else the default; a power of two. */
function ringSizeOf(opts: Options): number {
  if (opts.ringSize) return opts.ringSize;
  if (opts.perfPageCount !== 8) {
    const want = opts.perfPageCount * 4096 * possibleCpus();
    return 2 ** Math.ceil(Math.log2(want));
  }
  return DEFAULT_RING;
}

export function programInputsFor(
  opts: Options,
  kernel: KernelView,
  prep: Prepared,
  ringFd: number,
  lostFd: number,
): ProgramInputs {
  return {
    markOffset: kernel.markOffset,
    mark: opts.mark!,
    mask: opts.mask,
    ringFd,
    lostFd,
    probeRead: prep.probeRead,
    module: prep.module,
  };
}

function finishEarly(io: SessionIo): number {
  io.verbose("stopped before tracing started");
  process.stderr.write("Trace done!\n");
  return 0;
}
