// ipft's entry: parse the command line, run one command, turn every error into one line and an exit status.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError, UserError } from "../core/errors.js";
import { describeError } from "./errors.js";
import { helpText, type Options, parseArgs } from "./options.js";
import { validateRead } from "./read-options.js";
import { version } from "./version.js";

/** The example scripts' folder: next to dist/ in a checkout and in an installed package. */
function examplesDir(): string {
  const dir = fileURLToPath(new URL("../../../examples", import.meta.url));
  if (!existsSync(dir)) throw new UserError(`the example scripts are not installed (no ${dir})`);
  return dir;
}

/** The Lua dissector for -w files (wireshark/ipft.lua), also next to dist/ in both. */
function wiresharkPlugin(): string {
  const file = fileURLToPath(new URL("../../../wireshark/ipft.lua", import.meta.url));
  if (!existsSync(file)) throw new UserError(`the Wireshark plugin is not installed (no ${file})`);
  return file;
}

function validate(o: Options): void {
  const modes = [o.list, o.features, o.test, o.gen !== undefined, o.read !== undefined].filter(
    Boolean,
  ).length;
  if (modes > 1) throw new UsageError("choose one of -l, --features, --test, --gen and --read");
  if (o.drops && !o.verdicts)
    throw new UsageError(
      "--drops needs verdicts to know which packets were dropped: leave out --no-verdicts",
    );
  if (o.dropsMemory !== undefined && !o.drops)
    throw new UsageError("--drops-memory bounds what --drops holds: it goes with --drops");
  if (o.layout === "ipftrace2" && o.time !== undefined && o.time !== "boot")
    throw new UsageError(
      `--layout ipftrace2 prints nanoseconds since boot, as ipftrace2 does: leave out --time ${o.time}, or use the default layout`,
    );
  if (o.read !== undefined) {
    validateRead(o);
    return;
  }
  if (o.hostNames !== undefined)
    throw new UsageError("--host-names names the machines of --read's files: it goes with --read");
  if (o.command.length > 0 && (o.list || o.features || o.test || o.gen)) {
    throw new UsageError("-- COMMAND only goes with tracing (not with -l, --features, --test or --gen)");
  }
  if (o.capture.length > 0 && o.script)
    throw new UsageError(
      "--capture and -s both make the module: use ipft.capture{} inside the script instead",
    );
  if (o.write !== undefined && (o.list || o.features || o.test || o.gen))
    throw new UsageError("-w only goes with tracing (not with -l, --features, --test or --gen)");
  if (o.write === "-" && process.stdout.isTTY)
    throw new UsageError(
      "-w -: standard output is a terminal, not the place for pcapng; pipe it (ipft -w - | tshark -r -) or give a file name",
    );
  if (o.capture.length > 0 && (o.list || o.features))
    throw new UsageError("--capture only goes with tracing, --test and --gen");
  if (o.gen === "module" && !o.script && o.capture.length === 0)
    throw new UsageError("--gen module needs a script (-s FILE) or --capture EXPR");
  const selected =
    o.mark !== undefined ||
    o.filter !== undefined ||
    o.netnsInum !== undefined ||
    o.ifname !== undefined ||
    o.ifindex !== undefined;
  if ((o.gen === "program" || o.test) && !selected) o.mark = 1; // the mark only changes an immediate
  if (!o.list && !o.features && !o.gen && !o.test && !selected) {
    throw new UsageError(
      "-m MARK is required to trace, unless a pcap filter (e.g. 'udp port 53'), --netns, --ifname or --ifindex selects the packets (see ipft --help)",
    );
  }
  if (o.filter && (o.list || o.features))
    throw new UsageError(
      "a packet filter only goes with tracing, --test and --gen (not with -l or --features)",
    );
  if (o.tracer === "function_graph" && o.backend && o.backend !== "ftrace") {
    throw new UsageError(`-t function_graph needs -b ftrace (got -b ${o.backend})`);
  }
}

/** `ipft ... | head`: once the reader is gone, output is pointless. A trace stops cleanly (the stop
 * signal's listener), anything else ends at once. */
function handleClosedStdout(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    if (process.listenerCount("SIGINT") > 0) process.emit("SIGINT", "SIGINT");
    else process.exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  handleClosedStdout();
  let opts: Options | undefined;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      process.stdout.write(helpText());
      return 0;
    }
    if (opts.version) {
      process.stdout.write(`ipft ${version()}\n`);
      return 0;
    }
    if (opts.examples) {
      process.stdout.write(`${examplesDir()}\n`);
      return 0;
    }
    if (opts.wiresharkPlugin) {
      // The path alone on stdout (for $(...)); how to install it on stderr, for the person reading.
      const file = wiresharkPlugin();
      process.stdout.write(`${file}\n`);
      process.stderr.write(
        `install it for the current user: mkdir -p ~/.local/lib/wireshark/plugins && ln -sf ${file} ~/.local/lib/wireshark/plugins/ (or copy it there); then restart Wireshark\n`,
      );
      return 0;
    }
    validate(opts);
    // Each command's modules are loaded when it runs: a trace does not pay for the others' imports.
    if (opts.list) return (await import("./commands/list.js")).runList(opts);
    if (opts.features) return (await import("./commands/features.js")).runFeatures(opts);
    if (opts.gen) return (await import("./commands/gen.js")).runGen(opts);
    if (opts.test) return (await import("./commands/test.js")).runTest(opts);
    if (opts.read !== undefined) return (await import("./commands/read.js")).runRead(opts);
    return await (await import("./commands/trace.js")).runTrace(opts);
  } catch (e) {
    const { line, status, detail } = describeError(e, opts?.verbose === true);
    process.stderr.write(`ipft: ${line}\n`);
    if (detail) process.stderr.write(`${detail.trimEnd()}\n`);
    if (opts?.verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return status;
  }
}
