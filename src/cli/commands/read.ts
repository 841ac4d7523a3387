// ipft --read FILE.pcapng [-o FORMAT] [--drops]: a trace saved with -w printed as the live run printed it
// (the trace on stdout; the summary, lost events and notices on stderr), without root or BPF: the names
// come from the file, the script's text too.
import { UsageError } from "../../core/errors.js";
import { createWriter } from "../../output/index.js";
import { replayOf } from "../../output/pcapng-replay.js";
import { readPcapngFile } from "../../pcapng/reader.js";
import { RECORD_SIZE } from "../../record/record.js";
import { DEFAULT_MAX_TRACES } from "../../session/config.js";
import type { Options } from "../options.js";

/** --read takes the output options only: the rest are about tracing. */
export function validateRead(o: Options): void {
  const tracing: [boolean, string][] = [
    [o.mark !== undefined, "-m"],
    [o.write !== undefined, "-w"],
    [o.script !== undefined, "-s"],
    [o.capture.length > 0, "-c"],
    [o.regex !== undefined, "-r"],
    [o.backend !== undefined, "-b"],
    [o.command.length > 0, "-- COMMAND"],
  ];
  const used = tracing.filter(([on]) => on).map(([, flag]) => flag);
  if (used.length > 0)
    throw new UsageError(
      `--read prints a saved trace: ${used.join(", ")} ${used.length > 1 ? "are" : "is"} for tracing (--read takes -o, --drops and --max-traces)`,
    );
}

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
    dropsOnly: o.drops,
  });
  const dv = new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength);
  for (let i = 0; i < r.count; i++) writer.write(dv, i * RECORD_SIZE);
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
