// ipft --read FILE.pcapng [-o FORMAT] [--drops]: a trace saved with -w printed as the live run printed it
// (the trace on stdout; the summary, lost events and notices on stderr), without root or BPF: the names
// come from the file, the script's text too.
import { createWriter } from "../../output/index.js";
import { replayInto, replayOf } from "../../output/pcapng-replay.js";
import { readPcapngFile } from "../../pcapng/reader.js";
import { DEFAULT_MAX_TRACES } from "../../session/config.js";
import type { Options } from "../options.js";

export function runRead(o: Options): number {
  const path = o.read!;
  const contents = readPcapngFile(path);
  const r = replayOf(contents, path);
  const err = process.stderr;
  const writer = createWriter(o.output, {
    out: process.stdout,
    symbolizer: r.symbolizer,
    ...(r.dumper ? { dumper: r.dumper } : {}),
    maxTraces: o.maxTraces ?? DEFAULT_MAX_TRACES,
    graph: r.tracer === "function_graph",
    err,
    progress: false,
    verdicts: r.verdicts,
    stacks: r.stacks,
    dropsOnly: o.drops,
    ...(o.dropsMemory !== undefined ? { dropsMemory: o.dropsMemory } : {}),
  });
  replayInto(r, writer);
  writer.finish();
  writer.report(err);
  for (const l of writer.summary()) err.write(`${l}\n`);
  const lost = contents.lostEvents;
  if (lost > 0n)
    err.write(
      `ipft: Lost ${lost} traces (the ring buffer was full; try a larger --ring-size or fewer attach points)\n`,
    );
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
