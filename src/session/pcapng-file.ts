// -w FILE for one run: the file is opened before anything is put into the kernel (an unwritable path
// costs nothing), its writer starts with the trace, and it is always closed whole: with its statistics
// blocks on a normal end or a signal, as a section without events when the run stopped before tracing.

import type { Dumper, Symbolizer, VerdictNamer } from "../output/index.js";
import { PcapngOutput } from "../output/pcapng.js";
import { MonotonicClock } from "../pcapng/clock.js";
import { type FdSink, openBlockSink } from "../pcapng/writer.js";
import type { PcapngFileConfig } from "./config.js";
import type { StopSignal } from "./stop-signal.js";

export interface TraceFileInputs {
  symbolizer: Symbolizer;
  verdicts: VerdictNamer;
  dumper?: Dumper | undefined;
  tracer: string;
}

export class TraceFile {
  /** -w -: standard output holds the pcapng, so the text output goes to stderr. */
  readonly toStdout: boolean;
  private readonly sink: FdSink;
  private readonly clock: MonotonicClock;
  private output: PcapngOutput | undefined;

  constructor(private readonly c: PcapngFileConfig) {
    this.sink = openBlockSink(c.path);
    this.toStdout = c.path === "-";
    this.clock = MonotonicClock.measure();
  }

  /** The file's writer, for the trace's events; a failed write stops the trace. */
  start(i: TraceFileInputs, stop: StopSignal): PcapngOutput {
    this.output = new PcapngOutput(this.sink, {
      symbolizer: i.symbolizer,
      verdicts: i.verdicts,
      ...(i.dumper ? { dumper: i.dumper } : {}),
      clock: this.clock,
      userappl: this.c.userappl,
      commandLine: this.c.commandLine,
      tracer: i.tracer,
      ...(this.c.snaplen ? { snaplen: this.c.snaplen } : {}),
      onError: () => stop.trigger("the pcapng output failed"),
    });
    return this.output;
  }

  /** Finishes the file if the trace did not (an error, a stop before tracing) and closes it. */
  close(tracer: string): void {
    const out =
      this.output ??
      new PcapngOutput(this.sink, {
        symbolizer: { resolve: () => undefined },
        clock: this.clock,
        userappl: this.c.userappl,
        commandLine: this.c.commandLine,
        tracer,
      });
    out.finish();
  }
}
