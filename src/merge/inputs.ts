// The files of `--read A B C`: each read back (pcapng-replay.ts) with the machine its section names
// (host, boot id, clock offset: docs/multi-host.md), or the name --host-names gives it.
import { basename } from "node:path";
import { UsageError, UserError } from "../core/errors.js";
import { fileInfo, replayOf } from "../output/pcapng-replay.js";
import { readPcapngFile } from "../pcapng/reader.js";
import type { MergeInput } from "./merge.js";

/** --host-names: `NAME,NAME...` in the files' order, or `KEY=NAME,...` where KEY is a file's path, its
 * name without `.pcapng`, or the host name the file records. */
export function parseHostNames(v: string, flag: string): string[] {
  const items = v.split(",").map((x) => x.trim());
  if (items.some((x) => x === "" || x.endsWith("=")))
    throw new UsageError(`${flag}: give NAME,NAME... (in the files' order) or FILE=NAME,...`);
  return items;
}

const stem = (path: string) => basename(path).replace(/\.pcapng$/, "");

export interface LoadedInputs {
  inputs: MergeInput[];
  lostEvents: bigint;
  /** Per file: a note when it was cut short. */
  notes: string[];
}

export function loadInputs(paths: string[], hostNames: string[] = []): LoadedInputs {
  const inputs: MergeInput[] = [];
  const notes: string[] = [];
  let lostEvents = 0n;
  let tracer: string | undefined;
  for (const path of paths) {
    const contents = readPcapngFile(path);
    const replay = replayOf(contents, path);
    const info = fileInfo(contents)!;
    if (tracer !== undefined && info.tracer !== tracer)
      throw new UserError(
        `${path} is a trace of the ${info.tracer} tracer, ${paths[0]} of ${tracer}: files of different tracers cannot be merged`,
      );
    tracer = info.tracer;
    lostEvents += contents.lostEvents;
    if (contents.truncated || contents.statistics.length === 0)
      notes.push(
        `${path} was cut short (ipft was killed, or its disk filled): its ${replay.count} whole events are merged`,
      );
    const big = (s: string | undefined) => (s && /^-?\d+$/.test(s) ? BigInt(s) : 0n);
    inputs.push({
      host: info.host ?? stem(path),
      bootId: info.boot_id ?? "",
      offsetNs: big(info.clock_offset_ns),
      uncertaintyNs: big(info.clock_uncertainty_ns),
      replay,
    });
  }
  nameHosts(inputs, paths, hostNames);
  return { inputs, lostEvents, notes };
}

/** --host-names first; then two files of one host name are told apart by their files' names. */
function nameHosts(inputs: MergeInput[], paths: string[], names: string[]): void {
  const recorded = inputs.map((i) => i.host);
  const keyed = names.filter((n) => n.includes("="));
  const plain = names.filter((n) => !n.includes("="));
  if (keyed.length > 0 && plain.length > 0)
    throw new UsageError("--host-names: give either NAME,NAME... or KEY=NAME,..., not both");
  if (plain.length > inputs.length)
    throw new UsageError(`--host-names gives ${plain.length} names for ${inputs.length} files`);
  const given = inputs.map((_, f) => plain[f]);
  for (const k of keyed) {
    const at = k.lastIndexOf("=");
    const key = k.slice(0, at);
    const name = k.slice(at + 1);
    const hit = paths.flatMap((p, f) => (p === key || stem(p) === key || recorded[f] === key ? [f] : []));
    if (hit.length === 0)
      throw new UsageError(`--host-names: ${key} is no file given to --read, nor a host name they record`);
    for (const f of hit) given[f] = name;
  }
  inputs.forEach((inp, f) => {
    if (given[f] !== undefined) inp.host = given[f]!;
  });
  const count = new Map<string, number>();
  for (const i of inputs) count.set(i.host, (count.get(i.host) ?? 0) + 1);
  inputs.forEach((inp, f) => {
    if (given[f] === undefined && count.get(inp.host)! > 1) inp.host = `${inp.host}/${stem(paths[f]!)}`;
  });
}
