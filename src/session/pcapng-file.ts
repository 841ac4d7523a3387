// -w FILE for one run: the file is opened before anything is put into the kernel (an unwritable path
// costs nothing), its writer starts with the trace, and it is always closed whole: with its statistics
// blocks on a normal end or a signal, as a section without events when the run stopped before tracing.

import { NamespaceNames } from "../identity/namespace-names.js";
import type { DropDetails, Dumper, StackNamer, Symbolizer, VerdictNamer } from "../output/index.js";
import { PcapngOutput } from "../output/pcapng.js";
import { openBlockSink } from "../pcapng/sinks.js";
import type { SessionConfig } from "./config.js";
import type { StopSignal } from "./stop-signal.js";

export interface TraceFileInputs {
  symbolizer: Symbolizer;
  verdicts: VerdictNamer;
  dumper?: Dumper | undefined;
  stacks?: StackNamer | undefined;
  dropDetails?: DropDetails | undefined;
}

export class TraceFile {
  /** -w -: standard output holds the pcapng, so the text output goes to stderr. */
  readonly toStdout: boolean;
  private readonly output: PcapngOutput;

  /** -w's file for this session, opened (its section header written), or undefined without -w. The
   * interfaces declare the session's snaplen: the bytes the programs cut each packet to. */
  static open(config: Pick<SessionConfig, "pcapng" | "tracer" | "snaplen">): TraceFile | undefined {
    return config.pcapng ? new TraceFile(config.pcapng, config.tracer, config.snaplen) : undefined;
  }

  /** Opens the file and writes its section header (an unwritable output fails here). */
  private constructor(c: NonNullable<SessionConfig["pcapng"]>, tracer: string, snaplen: number) {
    this.toStdout = c.path === "-";
    const sink = openBlockSink(c.path);
    try {
      this.output = new PcapngOutput(sink, {
        userappl: c.userappl,
        commandLine: c.commandLine,
        tracer,
        snaplen,
        namespaces: new NamespaceNames(),
      });
    } catch (e) {
      try {
        sink.close();
      } catch {
        // the first error is the one to report
      }
      throw e;
    }
  }

  /** The file's writer, for the trace's events; a failed write stops the trace. */
  start(i: TraceFileInputs, stop: StopSignal): PcapngOutput {
    return this.output.start({ ...i, onError: () => stop.trigger("the pcapng output failed") });
  }

  /** Wall clock minus the records' clock, as the file records it (the text output's wall times use it too). */
  get clockOffsetNs(): bigint {
    return this.output.clockOffsetNs;
  }

  /** Finishes the file if the trace did not (an error, a stop before tracing) and closes it. */
  close(): void {
    this.output.finish();
  }
}
