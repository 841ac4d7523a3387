// The files of `--read A B C`: each read back piece by piece (file-events.ts) with the machine its section names
// (host, boot id, clock offset: docs/multi-host.md), or the name --host-names gives it.
import { basename } from "node:path";
import { UsageError, UserError } from "../core/errors.js";
import { FileEvents } from "./file-events.js";
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

/** The files opened (their first piece read: what each says of its machine). */
export function openInputs(paths: string[], hostNames: string[] = []): MergeInput[] {
  const inputs: MergeInput[] = [];
  let tracer: string | undefined;
  try {
    for (const path of paths) {
      const events = new FileEvents(path);
      const info = events.info;
      inputs.push({
        host: info.host ?? stem(path),
        bootId: info.boot_id ?? "",
        offsetNs: big(info.clock_offset_ns),
        uncertaintyNs: big(info.clock_uncertainty_ns),
        events,
      });
      if (tracer !== undefined && info.tracer !== tracer)
        throw new UserError(
          `${path} is a trace of the ${info.tracer} tracer, ${paths[0]} of ${tracer}: files of different tracers cannot be merged`,
        );
      tracer = info.tracer;
    }
    nameHosts(inputs, paths, hostNames);
  } catch (e) {
    for (const i of inputs) i.events.close();
    throw e;
  }
  return inputs;
}

const big = (s: string | undefined) => (s && /^-?\d+$/.test(s) ? BigInt(s) : 0n);

/** Once merged: the events the machines lost, and a note per file cut short. */
export function afterMerge(inputs: MergeInput[]): { lostEvents: bigint; notes: string[] } {
  let lostEvents = 0n;
  const notes: string[] = [];
  for (const { events: e } of inputs) {
    lostEvents += e.lostEvents;
    if (e.truncated || e.statistics === 0)
      notes.push(
        `${e.path} was cut short (ipft was killed, or its disk filled): its ${e.count} whole events are merged`,
      );
  }
  return { lostEvents, notes };
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
