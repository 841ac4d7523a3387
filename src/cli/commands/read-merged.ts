// ipft --read A.pcapng B.pcapng ...: traces of several machines as one (docs/multi-host.md): their events
// on one time line, each with its machine, a packet seen on several machines as one journey.
import { statSync } from "node:fs";
import { combinedLookups } from "../../explain/recorded-lookups.js";
import { FileEvents } from "../../merge/file-events.js";
import { afterMerge, openInputs } from "../../merge/inputs.js";
import { HostTexts, type MergeInput, mergeInto } from "../../merge/merge.js";
import type { Replay } from "../../output/pcapng-replay.js";
import type { DropDetails } from "../../output/types.js";
import { unseenFromFile, unseenLine } from "../../output/unseen.js";
import { VerdictText } from "../../output/verdict-text.js";
import { DEFAULT_MAX_TRACES } from "../../session/config.js";
import { createTextWriter } from "../../session/text-writer.js";
import type { Options } from "../options.js";

type Inputs = MergeInput[];

export function runReadMerged(o: Options): number {
  const inputs = openInputs(o.readFiles, o.hostNames);
  const first = inputs[0]!.events;
  const err = process.stderr;
  const time = o.time ?? "boot";
  const hosts = new HostTexts();
  // One namer for all: each file's records carry its own kernel's addresses, named from any file that
  // names them (two kernels' equal addresses are named by the first file naming them).
  const verdicts = {
    reason: (v: number) => firstNamed(inputs, (r) => r.verdicts.reason(v), String(v)),
    location: (a: bigint) => firstNamed(inputs, (r) => r.verdicts.location(a), `0x${a.toString(16)}`),
    // What each machine's live run looked up for its drops' facts.
    lookups: combinedLookups(() => inputs.flatMap((i) => i.events.replay.verdicts.lookups ?? [])),
  };
  // A drop's details (--nft-trace's rule) by its timestamp in its own file: the merge shifted it.
  const dropDetails: DropDetails = {
    get(hi, lo) {
      const ts = (BigInt(hi) << 32n) | BigInt(lo);
      for (const i of inputs) {
        const own = BigInt.asUintN(64, ts - i.events.shift);
        const d = i.events.replay.dropDetails.get(Number(own >> 32n), Number(own & 0xffffffffn));
        if (d) return d;
      }
      return undefined;
    },
  };
  const writer = createTextWriter(
    {
      output: o.output,
      time,
      layout: o.layout,
      maxTraces: o.maxTraces ?? DEFAULT_MAX_TRACES,
      dropsOnly: false, // decided by the merge, which sees whole journeys
      graph: first.info.tracer === "function_graph",
      identity: o.layout === "ipftrace2" ? false : o.identity,
    },
    {
      symbolizer: { resolve: (a) => firstOf(inputs, (r) => r.symbolizer.resolve(a)) },
      dumper: hosts.dumper,
      verdicts,
      dropDetails,
      stacks: { frame: (a) => firstNamed(inputs, (r) => r.stacks.frame(a), `0x${a.toString(16)}`) },
    },
    { out: process.stdout, err, progress: false },
    undefined,
    undefined,
    // The merged time line is the first file's clock (the others are shifted onto it).
    { startNs: time === "relative" ? earliest(first) : 0n, offsetNs: first.offsetNs ?? 0n },
  );
  const failures = new VerdictText(verdicts, dropDetails);
  const m = mergeInto(inputs, writer, hosts, o.drops, (dv, off) => failures.isFailedDrop(dv, off));
  writer.finish();
  const { notes } = afterMerge(inputs);
  writer.report(err);
  for (const l of writer.summary()) err.write(`${l}\n`);
  const names = inputs.map((i) => i.host).join(", ");
  const align =
    m.alignmentNs === undefined
      ? "a file does not record its clock offset (written by an older ipft): times are each machine's own"
      : m.alignmentNs === 0n
        ? "one boot, one clock: times are exact"
        : `times aligned by each machine's wall clock: to ±${(Number(m.alignmentNs) / 1000).toFixed(1)} µs of the offsets' measurement, plus however far the machines' wall clocks disagree (NTP)`;
  const drops = o.drops ? `, ${m.dropped} dropped (shown)` : "";
  err.write(
    `ipft: merged ${inputs.length} files (${names}): ${m.packets} packets${drops}, ${m.crossing} of them seen on several machines; ${align}\n`,
  );
  if (m.ambiguous > 0)
    err.write(
      `ipft: ${m.ambiguous} packets carry what another packet of their own file carries (same IP id, protocol and payload: a clone, a resend), so which of them another machine saw cannot be told: kept apart, not joined to a journey\n`,
    );
  // What each machine's trace could not see, named by machine.
  for (const i of inputs) {
    const line = unseenLine(unseenFromFile(Number(i.events.lostEvents), i.events.unseenMeta));
    if (line) err.write(`${line.replace(/^Not seen:/, `Not seen on ${i.host}:`)}\n`);
  }
  for (const n of notes) err.write(`ipft: ${n}\n`);
  return 0;
}

/** The first file's earliest timestamp (--time relative counts from it): read through once before; a
 * pipe, which reads once, by its first piece's. */
function earliest(first: FileEvents): bigint {
  if (!statSync(first.path).isFile()) return first.firstNs ?? 0n;
  const e = new FileEvents(first.path);
  while (e.next());
  return e.firstNs ?? 0n;
}

function firstOf<T>(inputs: Inputs, f: (r: Replay) => T | undefined): T | undefined {
  for (const i of inputs) {
    const v = f(i.events.replay);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The first name that is not the fallback (a file that does not name it gives the fallback). */
function firstNamed(inputs: Inputs, f: (r: Replay) => string, fallback: string): string {
  for (const i of inputs) {
    const v = f(i.events.replay);
    if (v !== fallback) return v;
  }
  return fallback;
}
