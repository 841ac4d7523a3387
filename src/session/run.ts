// One tracing run: build and load every program, attach, read the ring until told to stop, detach, print.
// Everything put into the kernel is closed on every way out (return, error, signal).
import { rmSync, writeFileSync } from "node:fs";
import { PacketTracker, teeWriter } from "../output/index.js";
import { unseenFileFields, unseenLine } from "../output/unseen.js";
import { LazyKallsyms } from "../symbols/lazy-kallsyms.js";
import { PhaseTimer } from "../util/phase-timer.js";
import { attachAll } from "./attach.js";
import type { Built } from "./build.js";
import { runCommand } from "./child.js";
import type { Selection, SessionConfig } from "./config.js";
import type { SessionIo } from "./io.js";
import { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";
import { loadAll } from "./load.js";
import { NftDrops } from "./nft-drops.js";
import { TraceFile } from "./pcapng-file.js";
import { prepareSession } from "./prepare.js";
import { drainRest, pumpUntilStopped } from "./pump.js";
import type { ScriptHost } from "./script-host.js";
import { StackNames } from "./stack-names.js";
import type { StopSignal } from "./stop-signal.js";
import { Symbolizer } from "./symbolizer.js";
import { createTextWriter, liveClock } from "./text-writer.js";
import { reportTracking, trackingNote } from "./track-table.js";
import { countUnseen, kprobeMisses } from "./unseen-counts.js";
import { VerdictNames } from "./verdict-names.js";

export async function runSession(
  config: SessionConfig,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  stop: StopSignal,
  timer: PhaseTimer = new PhaseTimer(false),
): Promise<number> {
  // -w: opened before anything goes into the kernel, closed whole on every way out.
  const file = TraceFile.open(config);
  const kobj = new KernelObjects();
  const ready = new ReadyFile(config.readyFile);
  try {
    return await trace(config, kernel, script, io, stop, kobj, timer, file, ready);
  } finally {
    kobj.closeAll();
    file?.close();
    ready.remove();
  }
}

/** --ready-file: created once tracing is ready; removed when tracing ends, when it would say so wrongly
 * (only if ipft created it: a file of that name from before an early failure is not ipft's). */
class ReadyFile {
  private written = false;
  constructor(private readonly path: string | undefined) {}
  create(): void {
    if (this.path === undefined) return;
    writeFileSync(this.path, "");
    this.written = true;
  }
  remove(): void {
    if (this.written) rmSync(this.path!, { force: true });
  }
}

async function trace(
  config: SessionConfig,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  stop: StopSignal,
  kobj: KernelObjects,
  timer: PhaseTimer,
  file: TraceFile | undefined,
  ready: ReadyFile,
): Promise<number> {
  const { built, inputs, track, clones, ...made } = prepareSession(config, kernel, script, io, kobj, "trace");
  const ring = made.ring!;
  const lost = made.lost!;
  timer.mark("plan");
  if (track) io.verbose(trackingNote(built, clones?.note));
  if (namesEventsLive(config, built) && kernel.kallsyms instanceof LazyKallsyms) {
    // Writers that name events as they arrive (stream, json, the file) would otherwise read kallsyms at the
    // first drop or function, stalling the ring's reader for ~90 ms right when the trace starts.
    kernel.kallsyms.load();
    timer.mark("kallsyms");
  }
  const loadStart = performance.now();
  const loaded = loadAll(built, inputs, kobj, io, () => stop.stopped);
  clones?.load(inputs, io);
  if (stop.stopped) return finishEarly(io);
  timer.mark("load");
  const withReturns = config.tracer === "function_graph";
  const failures = await attachAll(built, loaded, withReturns, kobj, io, stop, performance.now() - loadStart);
  if (!stop.stopped) clones?.attach(io);
  timer.mark("attach");
  io.verbose(timer.summary());
  // Stopped while attaching: nothing was traced yet, so there is nothing to print.
  if (stop.stopped) return finishEarly(io);

  const nft = NftDrops.start(config, kernel, io, kobj);
  const symbolizer = new Symbolizer(kernel.kallsyms, built.ids);
  const verdicts = new VerdictNames(kernel.btf, kernel.kallsyms);
  const dumper = script?.hooks.dump ? script : undefined;
  const stacks = config.stack !== "off" ? new StackNames(kernel.kallsyms) : undefined;
  // The packet ids, numbered as the ring is read; the summary and --drops read them too.
  const ids = new PacketTracker();
  const text = createTextWriter(
    { ...config, graph: withReturns },
    {
      symbolizer,
      dumper,
      verdicts: config.verdicts !== false ? verdicts : undefined,
      stacks,
      dropDetails: nft.details,
    },
    { out: file?.toStdout ? io.errSink : io.out, err: io.errSink, progress: io.interactive },
    track && (() => ({ seen: track.counts().tracked, lastSeen: track.counts().lastSeen })),
    ids,
    liveClock(file?.clockOffsetNs),
  );
  const pcapng = file?.start({ symbolizer, verdicts, dumper, stacks, dropDetails: nft.details }, stop);
  const writer = nft.wrap(pcapng ? teeWriter(text, pcapng) : text);

  io.status("Trace ready!");
  ready.create();
  const child = config.command.length > 0 ? runCommand(config.command, io, stop) : undefined;
  await pumpUntilStopped(ring, writer, ids, stop, pcapng && (() => pcapng.drained(lost.read())));

  // A kprobe link's missed count goes with the link: read just before detaching.
  const probeMisses = kprobeMisses(kobj.linkFds());
  // Detach first so nothing more arrives, then read what is left.
  kobj.closeLinks();
  drainRest(ring, writer, ids);
  const lostCount = lost.read();
  const { unseen, note } = countUnseen({
    lost: lostCount,
    probeMisses,
    progFds: [...loaded.loaded.map((l) => l.fd), ...(clones?.progFds() ?? [])],
    failures,
    track,
  });
  io.verbose(note);
  io.status("Trace done!");
  pcapng?.noteLost(lostCount);
  pcapng?.noteUnseen(unseenFileFields(unseen));
  writer.finish();
  writer.report(io.errSink);
  for (const l of writer.summary()) io.status(l);
  const notSeen = unseenLine(unseen);
  if (notSeen) io.status(notSeen);
  if (track) reportTracking(track, io);
  nft.report();
  // A command that never ran made no traffic: its own error says it all.
  if (writer.events === 0 && lostCount === 0 && !child?.failed()) io.err(noPacketHint(config));
  if (pcapng?.error) throw pcapng.error;
  return child?.status() ?? 0;
}

/** Whether kernel addresses are named while tracing (not only at the end, as the aggregate output does):
 * drop and consume locations, functions, stack frames, printed or written event by event. */
function namesEventsLive(config: SessionConfig, built: Built): boolean {
  if (config.output === "aggregate" && !config.pcapng) return false;
  return (
    config.verdicts !== false ||
    config.stack !== "off" ||
    built.backends.some((b) => b.backend.name !== "tracepoint")
  );
}

/** What to check when no packet was seen. */
export function noPacketHint(config: Selection): string {
  if (config.markTest === false) return noSelectedHint(config);
  const mask = config.mask !== 0xffffffff ? `/0x${config.mask.toString(16)}` : "";
  return (
    `no packet with mark 0x${config.mark.toString(16)}${mask} was seen. ` +
    `Is the mark set (iptables/nft MARK, SO_MARK, ping -m ${config.mark}: ping takes it in decimal)? Does the traffic cross a network namespace (that clears the mark)? ` +
    "Run ipft --features and ipft -v to see the backend and attach points."
  );
}

/** Without -m: what selected nothing, named as the user gave it, with what is worth checking for each. */
function noSelectedHint(config: Selection): string {
  const what = [
    config.filter ? `the filter "${config.filter.expr}"` : "",
    config.netnsInum !== undefined ? `namespace ${config.netns ?? config.netnsInum}` : "",
    config.ifname !== undefined ? `device ${config.ifname}` : "",
    config.ifindex !== undefined ? `device index ${config.ifindex}` : "",
  ].filter(Boolean);
  const checks = [
    config.filter
      ? "A filter sees the packet's linear part from its Ethernet or IP header (docs/selection.md)."
      : "",
    (config.ifname ?? config.ifindex) !== undefined && config.netnsInum === undefined
      ? "Is the device in another network namespace (add --netns)?"
      : "",
  ].filter(Boolean);
  return `no packet matched ${what.join(" and ")}. ${checks.map((c) => `${c} `).join("")}Run ipft --features and ipft -v to see the backend and attach points.`;
}

function finishEarly(io: SessionIo): number {
  io.verbose("stopped before tracing started");
  io.status("Trace done!");
  return 0;
}
