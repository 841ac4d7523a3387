// The command line's options as the session's plain configuration.
import { possibleCpus } from "../ringbuf/lost-counter.js";
import { DEFAULT_MAX_TRACES, DEFAULT_RING_SIZE, type SessionConfig } from "../session/config.js";
import { type Options, WRITE_SNAPLEN } from "./options.js";
import { NETNS_DIR, selectionOf } from "./selectors.js";
import { version } from "./version.js";

export function sessionConfig(o: Options): SessionConfig {
  return {
    mark: o.mark ?? 1, // --test and --gen without -m: the mark only changes an immediate
    mask: o.mask,
    ...selectionOf(o),
    regex: o.regex,
    moduleRegex: o.moduleRegex,
    backend: o.backend,
    tracer: o.tracer,
    module: { script: o.script, capture: o.capture },
    output: o.output,
    time: o.time ?? "boot",
    layout: o.layout,
    dropsOnly: o.drops,
    dropsMemory: o.dropsMemory,
    verdicts: o.verdicts,
    snaplen: o.snaplen ?? (o.write !== undefined ? WRITE_SNAPLEN : 0),
    stack: o.stack,
    identity: o.layout === "ipftrace2" ? false : o.identity,
    identityEvery: o.identityEvery,
    ringSize: ringSizeOf(o),
    maxTraces: o.maxTraces ?? DEFAULT_MAX_TRACES,
    readyFile: o.readyFile,
    command: o.command,
    verbose: o.verbose,
    pcapng: o.write === undefined ? undefined : pcapngFile(o.write),
    nftTrace: o.nftTrace ? nftTraceOf(o) : undefined,
  };
}

/** --nft-trace: the namespace the table goes in (--nft-trace=NETNS, else --netns, as a path), ipft's own
 * without either. */
function nftTraceOf(o: Options): SessionConfig["nftTrace"] {
  const given = o.nftTraceNetns ?? o.netns;
  if (given === undefined) return {};
  const ns = given.trim();
  return { netnsPath: ns.includes("/") ? ns : `${NETNS_DIR}/${ns}`, netnsName: ns };
}

function pcapngFile(path: string): SessionConfig["pcapng"] {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  return {
    path,
    userappl: `ipft ${version()}`,
    commandLine: ["ipft", ...process.argv.slice(2)].map(quote).join(" "),
  };
}

/** --ring-size, else ipftrace2's --perf-page-count pages per CPU, else the default; a power of two. */
function ringSizeOf(o: Options): number {
  if (o.ringSize) return o.ringSize;
  if (o.perfPageCount !== 8) {
    const want = o.perfPageCount * 4096 * possibleCpus();
    return 2 ** Math.ceil(Math.log2(want));
  }
  return DEFAULT_RING_SIZE;
}
