// ipft --read FILE.pcapng [-o FORMAT] [--drops]: a trace saved with -w printed as the live run printed it
// (the trace on stdout; the summary, lost events and notices on stderr), without root or BPF: the names
// come from the file, the script's text too.
import { replayInto, replayOf } from "../../output/pcapng-replay.js";
import { unseenFromFile, unseenLine } from "../../output/unseen.js";
import { parseMeta, readPcapngFile } from "../../pcapng/reader.js";
import { DEFAULT_MAX_TRACES } from "../../session/config.js";
import { createTextWriter } from "../../session/text-writer.js";
import type { Options } from "../options.js";
import { runReadMerged } from "./read-merged.js";

export function runRead(o: Options): number {
  if (o.readFiles.length > 1) return runReadMerged(o);
  const path = o.read!;
  const contents = readPcapngFile(path);
  const r = replayOf(contents, path);
  const err = process.stderr;
  const writer = createTextWriter(
    {
      output: o.output,
      time: o.time ?? "boot",
      layout: o.layout,
      maxTraces: o.maxTraces ?? DEFAULT_MAX_TRACES,
      dropsOnly: o.drops,
      dropsMemory: o.dropsMemory,
      graph: r.tracer === "function_graph",
      identity: o.layout === "ipftrace2" ? false : o.identity,
    },
    {
      symbolizer: r.symbolizer,
      dumper: r.dumper,
      verdicts: r.verdicts,
      stacks: r.stacks,
      dropDetails: r.dropDetails,
    },
    { out: process.stdout, err, progress: false },
    undefined,
    undefined,
    { startNs: r.clock.firstNs, offsetNs: r.clock.offsetNs },
  );
  replayInto(r, writer);
  writer.finish();
  writer.report(err);
  for (const l of writer.summary()) err.write(`${l}\n`);
  // The statistics of interface 0 hold what the trace missed (isb_ifdrop and the "ipft:" comment).
  const stats = contents.statistics.find((s) => s.interface.id === 0) ?? contents.statistics[0];
  const notSeen = unseenLine(unseenFromFile(Number(contents.lostEvents), parseMeta(stats?.comments ?? [])));
  if (notSeen) err.write(`${notSeen}\n`);
  if (r.foreign > 0)
    err.write(`ipft: skipped ${r.foreign} packets without an "ipft:" comment (not events ipft wrote)\n`);
  if (contents.truncated) {
    const at = contents.truncatedAt!;
    err.write(
      `ipft: ${path} was cut short at byte ${at.offset} (its last block is incomplete, as after a SIGKILL or a full disk): showing the ${r.count} events before it; the lost-event count was not written\n`,
    );
  } else if (contents.statistics.length === 0)
    err.write(
      `ipft: ${path} was cut short: it ends without its statistics blocks (ipft was killed, or its disk filled): showing the ${r.count} events it has; the lost-event count was not written\n`,
    );
  return 0;
}
