import assert from "node:assert/strict";
import { test } from "node:test";
import { helpText, parseArgs } from "../../src/cli/options.js";
import { UsageError } from "../../src/core/errors.js";

const bad = (argv: string[], re: RegExp) =>
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
  );

test("marks in decimal and hex, masks", () => {
  assert.equal(parseArgs(["-m", "42"]).mark, 42);
  assert.equal(parseArgs(["--mark=0x2a"]).mark, 42);
  assert.equal(parseArgs(["-m0xffffffff"]).mark, 0xffffffff);
  assert.equal(parseArgs(["-m", "0x100", "--mask", "0xff00"]).mask, 0xff00);
  assert.equal(parseArgs(["-m", "1"]).mask, 0xffffffff);
});

test("bad marks and masks are refused with one line", () => {
  bad(["-m", "0"], /non-zero mark/);
  bad(["-m", "0x100000000"], /32 bits/);
  bad(["-m", "abc"], /not a number/);
  bad(["-m", "-1"], /not a number/);
  bad(["-m", "1", "--mask", "0"], /non-zero mask/);
  // A mask that keeps none of the mark's bits compares 0 with 0: every unmarked packet would match.
  bad(["-m", "0x2a", "--mask", "0xf00"], /--mask 0xf00 keeps no bit of -m 0x2a .*choose a mask/);
  bad(["--mask", "0xf00", "-m", "0x2a"], /keeps no bit/);
  assert.equal(parseArgs(["-m", "0x2a", "--mask", "0xf0"]).mask, 0xf0);
  assert.equal(parseArgs(["-m", "0x80000000", "--mask", "0x80000000"]).mark, 0x80000000);
  bad(["-m"], /needs a value/);
});

test("choices are checked", () => {
  assert.equal(parseArgs(["-b", "tracepoint"]).backend, "tracepoint");
  assert.equal(parseArgs(["-o", "json"]).output, "json");
  assert.equal(parseArgs(["-t", "function_graph"]).tracer, "function_graph");
  bad(["-b", "uprobe"], /unknown value "uprobe".*kprobe, kprobe-multi, ftrace, tracepoint/);
  bad(["-o", "xml"], /unknown value/);
  bad(["-t", "graph"], /unknown value/);
  bad(["--gen", "all"], /unknown value/);
});

test("regexes are compiled, bad ones refused", () => {
  assert.ok(parseArgs(["-r", "^ip_"]).regex?.test("ip_rcv"));
  assert.ok(parseArgs(["--module-regex", "nf_"]).moduleRegex?.test("nf_conntrack"));
  bad(["-r", "("], /invalid regular expression/);
});

test("sizes and counts", () => {
  assert.equal(parseArgs(["--ring-size", "64k"]).ringSize, 65536);
  assert.equal(parseArgs(["--ring-size", "8M"]).ringSize, 8 << 20);
  bad(["--ring-size", "1000"], /power of two/);
  bad(["--ring-size", "lots"], /not a size/);
  assert.equal(parseArgs(["--max-traces", "10"]).maxTraces, 10);
  bad(["--max-traces", "0"], /positive/);
});

test("-- starts the command; unknown options and stray words are refused", () => {
  assert.deepEqual(parseArgs(["-m", "1", "--", "ping", "-c", "1"]).command, ["ping", "-c", "1"]);
  bad(["-m", "1", "--"], /expected a command/);
  bad(["--frobnicate"], /unknown option --frobnicate/);
  bad(["-Z"], /unknown option -Z/);
  bad(["ping"], /unexpected argument "ping"/);
  bad(["--list=yes"], /takes no value/);
});

test("a capture cut at > by the shell (unquoted skb->len) says to quote it", () => {
  // `ipft -c skb->len` reaches ipft as `-c skb-`, the shell having redirected to a file named len.
  bad(
    ["-m", "1", "-c", "skb-"],
    /^-c "skb-": the expression was cut at ">" by the shell.*quote it, e\.g\. -c 'skb->len'$/,
  );
  bad(["-m", "1", "--capture", "dev=skb-"], /^--capture "dev=skb-": the expression was cut at ">"/);
  assert.deepEqual(parseArgs(["-m", "1", "-c", "skb->len"]).capture, ["skb->len"]);
});

test("script options: -s and -e both take a path", () => {
  assert.equal(parseArgs(["-s", "a.lua"]).script, "a.lua");
  assert.equal(parseArgs(["-e", "b.lua"]).script, "b.lua");
});

test("help lists every option", () => {
  const h = helpText();
  for (const o of [
    "--mark",
    "--mask",
    "--regex",
    "--module-regex",
    "--script",
    "--output",
    "--backend",
    "--tracer",
    "--list",
    "--features",
    "--test",
    "--gen",
    "--ring-size",
    "--perf-page-count",
    "--max-traces",
    "--ready-file",
    "--no-set-rlimit",
    "--verbose",
    "--help",
  ]) {
    assert.ok(h.includes(o), `help mentions ${o}`);
  }
});

test("-w and --read take a file; -w - is standard output; an empty name is refused", () => {
  assert.equal(parseArgs(["-m", "1", "-w", "t.pcapng"]).write, "t.pcapng");
  assert.equal(parseArgs(["-m", "1", "-w", "-"]).write, "-");
  assert.equal(parseArgs(["--write=t.pcapng", "-m", "1"]).write, "t.pcapng");
  assert.equal(parseArgs(["--read", "t.pcapng", "-o", "json"]).read, "t.pcapng");
  bad(["-m", "1", "-w", ""], /^-w: give a file name, or - for standard output$/);
  bad(["--read="], /^--read: give the pcapng file written with -w$/);
  bad(["-m", "1", "-w"], /^-w needs a value \(FILE\)$/);
  assert.match(helpText(), /--write FILE/);
  assert.match(helpText(), /--read FILE/);
});
