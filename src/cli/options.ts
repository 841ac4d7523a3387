// The command line: one table describes every option, drives parsing and produces --help.
import { existsSync } from "node:fs";
import { CaptureError, parseSpec } from "../capture/parse.js";
import { UsageError } from "../core/errors.js";
import {
  BACKENDS,
  type BackendName,
  GEN_TARGETS,
  type GenTarget,
  OUTPUTS,
  type OutputName,
  TRACERS,
  type TracerName,
} from "../core/names.js";
import { parseHostNames } from "../merge/inputs.js";
import { LAYOUTS, type Layout } from "../output/layout.js";
import { TIME_MODES, type TimeMode } from "../output/time/time-column.js";
import type { PcapFilter } from "../program/selectors/pcap.js";
import { MAX_SNAPLEN } from "../record/record.js";
import { compileSelectionFilter, NETNS_DIR, SELECTOR_OPTIONS } from "./selectors.js";
import { oneOf, parseCount, parseRegex, parseSize } from "./values.js";

/** Packet bytes kept per event when writing a pcapng file (-w) and --snaplen is not given. */
export const WRITE_SNAPLEN = 256;

export interface Options {
  mark?: number;
  mask: number;
  regex?: RegExp;
  moduleRegex?: RegExp;
  script?: string;
  /** --capture texts, in order. */
  capture: string[];
  output: OutputName;
  /** --time: the first column (undefined: not given, which means boot). */
  time?: TimeMode;
  /** --layout. */
  layout: Layout;
  drops: boolean;
  /** --nft-trace: name the nftables rule that dropped a packet, through nftables' own tracing. */
  nftTrace?: boolean;
  /** --nft-trace=NETNS: the namespace whose nftables it traces (else --netns's, else ipft's). */
  nftTraceNetns?: string;
  /** --drops-memory: bytes of held events at most. */
  dropsMemory?: number;
  /** --no-verdicts sets false. */
  verdicts: boolean;
  /** --snaplen: packet bytes per event (0: none; undefined: not given, which means 0, or 256 with -w). */
  snaplen?: number;
  /** --stack: where kernel stacks are taken. */
  stack: "off" | "drops" | "all";
  list: boolean;
  features: boolean;
  test: boolean;
  gen?: GenTarget;
  backend?: BackendName;
  tracer: TracerName;
  verbose: boolean;
  ringSize?: number;
  perfPageCount: number;
  maxTraces?: number;
  readyFile?: string;
  /** -w: the pcapng file ("-": standard output). */
  write?: string;
  /** --read: a pcapng file written with -w, printed instead of tracing. */
  read?: string;
  /** --read A B C: every file, the first being `read` (several: merged, docs/multi-host.md). */
  readFiles: string[];
  /** --host-names: the machines' names for the files of --read. */
  hostNames?: string[];
  help: boolean;
  version: boolean;
  examples: boolean;
  /** --wireshark-plugin: print where the Lua dissector for -w files is. */
  wiresharkPlugin: boolean;
  command: string[];
  /** -f values, and the words before -- (one filter together). */
  filterOpts: string[];
  filterWords: string[];
  /** The pcap filter: -f and the words before --, ANDed; compiled once parsing is done. */
  filterExpr?: string;
  filter?: PcapFilter;
  /** --netns as given, and the namespace's inode number. */
  netns?: string;
  netnsInum?: number;
  ifname?: string;
  ifindex?: number;
  track: boolean;
  trackMax?: number;
  /** --no-identity sets false. */
  identity: boolean;
  /** --identity-every: the identity read at every event of a tracked packet. */
  identityEvery?: boolean;
}

export interface Spec {
  short?: string;
  long: string;
  arg?: string;
  /** A value that may be left out (then set() gets ""): given as --flag=V, or as the next argument only when
   * that is one of these values exactly (any other word is the filter's, as in --stack icmp). These are also
   * the values --help shows. */
  optional?: readonly string[];
  /** With `optional: []`: the name --help shows for a value given only as --flag=V. */
  optionalArg?: string;
  help: string;
  set: (o: Options, v: string, flag: string) => void;
}

const SPECS: Spec[] = [
  ...SELECTOR_OPTIONS,
  {
    long: "no-identity",
    help: "do not say what each packet is and where (its headers and device at its first event, and their changes)",
    set: (o) => {
      o.identity = false;
    },
  },
  {
    long: "identity-every",
    help: "read each packet's identity at every event (default: at its first and where its device, addresses, ports or mark changed)",
    set: (o) => {
      o.identityEvery = true;
    },
  },
  {
    long: "no-track",
    help: "test every event on its own: do not keep following a selected packet to its verdict",
    set: (o) => {
      o.track = false;
    },
  },
  {
    long: "track-max",
    arg: "N",
    help: "follow at most N packets at once (default 65536); more push the oldest out",
    set: (o, v, f) => {
      o.trackMax = parseCount(f, v);
      if (o.trackMax > 1 << 24) throw new UsageError(`${f}: ${v} is more than 16777216 packets`);
    },
  },
  {
    short: "r",
    long: "regex",
    arg: "REGEX",
    help: "only attach points whose name matches REGEX (partial match)",
    set: (o, v, f) => {
      o.regex = parseRegex(f, v);
    },
  },
  {
    long: "module-regex",
    arg: "REGEX",
    help: "only attach points in kernel modules whose name matches REGEX (vmlinux is the core kernel)",
    set: (o, v, f) => {
      o.moduleRegex = parseRegex(f, v);
    },
  },
  {
    short: "s",
    long: "script",
    arg: "PATH",
    help: "Lua 5.3 script with init/emit/dump/fini hooks",
    set: (o, v) => {
      o.script = v;
    },
  },
  {
    short: "c",
    long: "capture",
    arg: "EXPR",
    help: "capture a field per trace, e.g. skb->len, dev=skb->dev->name, ip->saddr:ip4 (repeatable; docs/capture.md)",
    set: (o, v, f) => {
      if (v.trim() === "") throw new UsageError(`${f}: give an expression, e.g. ${f} 'skb->len'`);
      // Unquoted, `skb->len` is `skb-` and a redirection to a file named `len`: no expression ends in -.
      if (v.trimEnd().endsWith("-"))
        throw new UsageError(
          `${f} "${v.trim()}": the expression was cut at ">" by the shell (which redirected to a file): quote it, e.g. ${f} 'skb->len'`,
        );
      // The syntax is checked here; types need the kernel's BTF and are checked when compiling.
      try {
        // tcpdump's and pwru's -c is a packet count: here it is a capture, and a number captures nothing.
        if (parseSpec(v).expr.k === "num")
          throw new UsageError(
            `${f} "${v.trim()}": a number is not something to capture (${f} is --capture, e.g. ${f} 'skb->len', not a packet count)`,
          );
      } catch (e) {
        if (e instanceof CaptureError) throw new UsageError(`${f} "${v.trim()}": ${e.message}`);
        throw e;
      }
      o.capture.push(v);
    },
  },
  {
    short: "e",
    long: "extension",
    arg: "PATH",
    help: "same as --script (ipftrace2's later name)",
    set: (o, v) => {
      o.script = v;
    },
  },
  {
    short: "o",
    long: "output",
    arg: "FORMAT",
    help: "aggregate (default: per packet, at the end), stream (per event, as it comes) or json",
    set: (o, v, f) => {
      o.output = oneOf(f, v, OUTPUTS);
    },
  },
  {
    long: "time",
    arg: "MODE",
    help: "the first column: boot (nanoseconds since boot, ipftrace2's; the default), relative (seconds since tracing started) or wall (ISO 8601 UTC, microseconds)",
    set: (o, v, f) => {
      o.time = oneOf(f, v, TIME_MODES);
    },
  },
  {
    long: "layout",
    arg: "NAME",
    help: "ipft (the default) or ipftrace2: exactly the columns ipft printed before it added times since each packet's first event, json's wall_time and the summary's slowest steps (for scripts that parse them)",
    set: (o, v, f) => {
      o.layout = oneOf(f, v, LAYOUTS);
    },
  },
  {
    short: "w",
    long: "write",
    arg: "FILE",
    help: "also write every event to FILE as pcapng, for Wireshark or --read (- is standard output: the text output then goes to stderr; docs/pcapng.md)",
    set: (o, v, f) => {
      if (v === "") throw new UsageError(`${f}: give a file name, or - for standard output`);
      o.write = v;
    },
  },
  {
    long: "read",
    arg: "FILE",
    help: "print a trace saved with -w (as -o aggregate, stream or json), without tracing; several files: one trace of several machines (docs/multi-host.md)",
    set: (o, v, f) => {
      if (v === "") throw new UsageError(`${f}: give the pcapng file written with -w`);
      o.read = v;
    },
  },
  {
    long: "host-names",
    arg: "NAMES",
    help: "with --read of several files: name their machines, NAME,NAME... in the files' order or FILE=NAME,... (docs/multi-host.md)",
    set: (o, v, f) => {
      o.hostNames = parseHostNames(v, f);
    },
  },
  {
    long: "no-verdicts",
    help: "do not add the kfree_skb and consume_skb tracepoints nor end packets with a verdict (ipftrace2's output)",
    set: (o) => {
      o.verdicts = false;
    },
  },
  {
    long: "drops",
    help: "print only packets that were dropped, each with its whole journey and drop reason",
    set: (o) => {
      o.drops = true;
    },
  },
  {
    long: "nft-trace",
    optional: [],
    optionalArg: "NETNS",
    help: "name the nftables rule or chain policy that dropped a packet: adds table inet ipft_trace_PID (nftables tracing of the selected packets; removed at exit) in namespace NETNS (a name or a path), else --netns's, else ipft's",
    set: (o, v, f) => {
      o.nftTrace = true;
      if (v === "") return;
      if (/^[0-9]+$/.test(v.trim()))
        throw new UsageError(
          `${f} adds its table inside the namespace: give it as a name or a path, not the inode number ${v}`,
        );
      const path = v.includes("/") ? v : `${NETNS_DIR}/${v}`;
      if (!existsSync(path))
        throw new UsageError(
          `${f}: no such namespace ${v} (give a name from ip netns list, or a path like /proc/PID/ns/net)`,
        );
      o.nftTraceNetns = v;
    },
  },
  {
    long: "drops-memory",
    arg: "SIZE",
    help: "--drops: hold at most SIZE of events awaiting their packet's verdict (default 64M; 1M to 2G)",
    set: (o, v, f) => {
      const n = parseSize(f, v);
      if (n < 1 << 20 || n > 2 ** 31) throw new UsageError(`${f}: ${v} must be from 1M to 2G`);
      o.dropsMemory = n - (n % 16);
    },
  },
  {
    long: "snaplen",
    arg: "N",
    help: `also capture the first N bytes of the packet at each event (default 0: none, ${WRITE_SNAPLEN} with -w; at most ${MAX_SNAPLEN}): json's "packet", pcapng's packets`,
    set: (o, v, f) => {
      if (!/^[0-9]+$/.test(v))
        throw new UsageError(`${f}: "${v}" is not a whole number of bytes (0 to ${MAX_SNAPLEN})`);
      const n = Number(v);
      if (n > MAX_SNAPLEN)
        throw new UsageError(
          `${f}: ${v} is more than the ${MAX_SNAPLEN} bytes a trace may carry; choose ${MAX_SNAPLEN} or less (1514 holds a whole Ethernet frame of MTU 1500)`,
        );
      o.snaplen = n;
    },
  },
  {
    long: "stack",
    optional: ["drops", "all"],
    help: "print the kernel stack where each packet is dropped; --stack all (or --stack=all): at every event",
    set: (o, v, f) => {
      o.stack = v === "" ? "drops" : oneOf(f, v, ["drops", "all"] as const);
    },
  },
  {
    short: "b",
    long: "backend",
    arg: "NAME",
    help: "kprobe, kprobe-multi, ftrace or tracepoint (default: the best this kernel supports)",
    set: (o, v, f) => {
      o.backend = oneOf(f, v, BACKENDS);
    },
  },
  {
    short: "t",
    long: "tracer",
    arg: "NAME",
    help: "function (default) or function_graph (enter and return events)",
    set: (o, v, f) => {
      o.tracer = oneOf(f, v, TRACERS);
    },
  },
  {
    short: "l",
    long: "list",
    help: "list attach points (NAME MODULE KIND SKB_POS BACKENDS: those that can trace it here) and exit",
    set: (o) => {
      o.list = true;
    },
  },
  {
    long: "features",
    help: "say which backends this kernel supports, and why not",
    set: (o) => {
      o.features = true;
    },
  },
  {
    long: "test",
    help: "load every program into the kernel verifier and exit; nothing is attached, so attaching is not checked",
    set: (o) => {
      o.test = true;
    },
  },
  {
    long: "gen",
    arg: "WHAT",
    help: "print the eBPF of the script's module or of a whole program (module or program) and exit",
    set: (o, v, f) => {
      o.gen = oneOf(f, v, GEN_TARGETS);
    },
  },
  {
    long: "ring-size",
    arg: "SIZE",
    help: "ring buffer size, a power of two (default 8M; examples: 64k, 32M)",
    set: (o, v, f) => {
      const n = parseSize(f, v);
      if (n < 4096 || (n & (n - 1)) !== 0) {
        throw new UsageError(`${f}: ${v} must be a power of two of at least 4k (examples: 64k, 8M)`);
      }
      o.ringSize = n;
    },
  },
  {
    long: "perf-page-count",
    arg: "N",
    help: "pages per CPU for the event buffer (ipftrace2's option; --ring-size is preferred)",
    set: (o, v, f) => {
      o.perfPageCount = parseCount(f, v);
    },
  },
  {
    long: "max-traces",
    arg: "N",
    help: "aggregate output: stop storing traces after N (default 5000000, about 1 GiB)",
    set: (o, v, f) => {
      o.maxTraces = parseCount(f, v);
    },
  },
  {
    long: "ready-file",
    arg: "PATH",
    help: "create PATH once tracing is ready (removed when ipft exits)",
    set: (o, v) => {
      o.readyFile = v;
    },
  },
  {
    long: "no-set-rlimit",
    help: "accepted for compatibility: ipft never depends on RLIMIT_MEMLOCK",
    set: () => {},
  },
  {
    short: "v",
    long: "verbose",
    help: "say what ipft decides and why; show stack traces of errors",
    set: (o) => {
      o.verbose = true;
    },
  },
  {
    long: "examples",
    help: 'print the folder of the example scripts installed with ipft, e.g. -s "$(ipft --examples)/gso.lua"',
    set: (o) => {
      o.examples = true;
    },
  },
  {
    long: "wireshark-plugin",
    help: "print the path of the Wireshark plugin that shows -w files' events as ipft.* fields, and how to install it",
    set: (o) => {
      o.wiresharkPlugin = true;
    },
  },
  {
    long: "version",
    help: "print the version and exit",
    set: (o) => {
      o.version = true;
    },
  },
  {
    short: "h",
    long: "help",
    help: "show this help and exit",
    set: (o) => {
      o.help = true;
    },
  },
];

export function defaults(): Options {
  return {
    mask: 0xffffffff,
    capture: [],
    output: "aggregate",
    layout: "ipft",
    drops: false,
    verdicts: true,
    stack: "off",
    list: false,
    features: false,
    test: false,
    tracer: "function",
    verbose: false,
    perfPageCount: 8,
    help: false,
    version: false,
    examples: false,
    wiresharkPlugin: false,
    command: [],
    filterOpts: [],
    filterWords: [],
    readFiles: [],
    track: true,
    identity: true,
  };
}

/** Parses argv (without node and script). Throws UsageError with one line on any mistake. */
export function parseArgs(argv: string[]): Options {
  const o = defaults();
  const byShort = new Map(SPECS.filter((s) => s.short).map((s) => [s.short!, s]));
  const byLong = new Map(SPECS.map((s) => [s.long, s]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.command = argv.slice(i + 1);
      if (o.command.length === 0) throw new UsageError("--: expected a command after --");
      break;
    }
    let spec: Spec | undefined;
    let flag: string;
    let value: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      spec = byLong.get(name);
      flag = `--${name}`;
      if (!spec) throw new UsageError(`unknown option ${flag} (see ipft --help)`);
      if (eq >= 0) {
        if (!spec.arg && !spec.optional) throw new UsageError(`${flag} takes no value`);
        value = a.slice(eq + 1);
      } else if (spec.optional) {
        const next = argv[i + 1];
        value = next !== undefined && spec.optional.includes(next) ? argv[++i]! : "";
      }
    } else if (a.startsWith("-") && a.length > 1) {
      flag = `-${a[1]}`;
      spec = byShort.get(a[1]!);
      if (!spec) throw new UsageError(`unknown option ${flag} (see ipft --help)`);
      if (a.length > 2) {
        if (!spec.arg) throw new UsageError(`${flag} takes no value (got "${a}")`);
        value = a.slice(2);
      }
    } else {
      // A word that is no option: a part of the pcap filter (pwru's habit).
      o.filterWords.push(a);
      continue;
    }
    if (spec.arg && value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value (${spec.arg})`);
    }
    spec.set(o, value ?? "", flag);
  }
  // --read A B C: the words after the first file are more files, not a filter.
  if (o.read !== undefined) {
    o.readFiles = [o.read, ...o.filterWords];
    o.filterWords = [];
  }
  compileFilterOf(o);
  if (o.nftTrace && o.verdicts === false)
    throw new UsageError("--nft-trace explains drops, and --no-verdicts leaves them out: use one of them");
  if (o.nftTrace && o.nftTraceNetns === undefined && o.netns !== undefined && /^[0-9]+$/.test(o.netns.trim()))
    throw new UsageError(
      `--nft-trace adds its table inside the namespace: give --netns as a name or a path, not the inode number ${o.netns}`,
    );
  if (o.mark !== undefined && (o.mark & o.mask) >>> 0 === 0) {
    const hex = (n: number) => `0x${n.toString(16)}`;
    throw new UsageError(
      `--mask ${hex(o.mask)} keeps no bit of -m ${hex(o.mark)} (mark & mask == 0), so every unmarked packet would match; choose a mask that covers a bit of the mark`,
    );
  }
  return o;
}

/** The filter's parts ANDed and compiled; a bad filter stops parsing with libpcap's message. */
function compileFilterOf(o: Options): void {
  const parts = [...o.filterOpts];
  if (o.filterWords.length > 0) parts.push(o.filterWords.join(" "));
  if (parts.length === 0) return;
  o.filterExpr = parts.length === 1 ? parts[0]! : parts.map((x) => `(${x})`).join(" and ");
  // Words that do not compile were perhaps a command without its --.
  const hint = o.filterWords.length > 0 ? "to run a command, put it after --" : undefined;
  o.filter = compileSelectionFilter(o.filterExpr, hint);
}

export function helpText(): string {
  const lines = [
    "Usage: ipft -m MARK [options] [FILTER...] [-- COMMAND [ARGS...]]",
    "       ipft [options] FILTER... [-- COMMAND [ARGS...]]     (FILTER: a pcap filter, e.g. udp port 53)",
    "       ipft -l [-r REGEX] [--module-regex REGEX] [-b BACKEND]",
    "       ipft --read FILE.pcapng [-o FORMAT] [--drops]",
    "       ipft --read A.pcapng B.pcapng... [--host-names NAME,...]   (several machines as one trace)",
    "       ipft --features",
    "       ipft --examples",
    "       ipft --wireshark-plugin",
    "",
    "Trace every kernel function and tracepoint that a marked packet (skb->mark) goes through, or a packet",
    "a pcap filter, --netns or --ifname selects; a selected packet is followed to its verdict (--no-track).",
    "With -- COMMAND, tracing starts before COMMAND runs and stops after it exits; its stdout goes to stderr.",
    "",
    "Options:",
  ];
  for (const s of SPECS) {
    const arg = s.arg
      ? ` ${s.arg}`
      : s.optionalArg
        ? `[=${s.optionalArg}]`
        : s.optional
          ? ` [${s.optional.join("|")}]`
          : "";
    const names = `${s.short ? `-${s.short}, ` : "    "}--${s.long}${arg}`;
    lines.push(`  ${names.padEnd(30)} ${s.help}`);
  }
  lines.push("", "Exit status: 0 done, 1 error, 2 bad command line; with -- COMMAND, the command's status.");
  return `${lines.join("\n")}\n`;
}
