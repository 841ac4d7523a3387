import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { sessionConfig } from "../../src/cli/config.js";
import { helpText, parseArgs } from "../../src/cli/options.js";
import { UsageError } from "../../src/core/errors.js";
import { ROOT } from "../support/run.js";

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
  assert.equal(parseArgs(["--drops", "--drops-memory", "256M"]).dropsMemory, 256 << 20);
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--drops", "--drops-memory", "1G"])).dropsMemory, 1 << 30);
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--drops"])).dropsMemory, undefined);
  bad(["--drops-memory", "512k"], /--drops-memory: 512k must be from 1M to 2G/);
  bad(["--drops-memory", "3G"], /must be from 1M to 2G/);
  assert.equal(parseArgs(["--max-traces", "10"]).maxTraces, 10);
  bad(["--max-traces", "0"], /positive/);
});

test("-- starts the command; unknown options, and stray words that are no filter, are refused", () => {
  assert.deepEqual(parseArgs(["-m", "1", "--", "ping", "-c", "1"]).command, ["ping", "-c", "1"]);
  bad(["-m", "1", "--"], /expected a command/);
  bad(["--frobnicate"], /unknown option --frobnicate/);
  bad(["-Z"], /unknown option -Z/);
  // A word before -- is a pcap filter: one that libpcap refuses may have been meant as a command.
  bad(["ping"], /^bad packet filter "ping": .*syntax error \(to run a command, put it after --\)$/);
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

test("-c with a number (tcpdump's packet count) is a bad command line, not a kernel's refusal", () => {
  bad(
    ["-c", "5", "icmp"],
    /^-c "5": a number is not something to capture \(-c is --capture, .*not a packet count\)$/,
  );
  bad(["--capture", "n=0x10"], /^--capture "n=0x10": a number is not something to capture/);
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

test("--snaplen: 0 (off) to 4096 bytes; --stack with an optional where (drops, the default, or all)", () => {
  assert.equal(parseArgs([]).snaplen, undefined, "not given: 0, or 256 with -w (cli/config.ts)");
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).snaplen, 0);
  assert.equal(sessionConfig(parseArgs(["-m", "1", "-w", "t.pcapng"])).snaplen, 256);
  assert.equal(sessionConfig(parseArgs(["-m", "1", "-w", "t.pcapng", "--snaplen", "0"])).snaplen, 0);
  assert.equal(parseArgs(["--snaplen", "128"]).snaplen, 128);
  assert.equal(parseArgs(["--snaplen=4096"]).snaplen, 4096);
  bad(
    ["--snaplen", "4097"],
    /--snaplen: 4097 is more than the 4096 bytes a trace may carry; choose 4096 or less/,
  );
  bad(["--snaplen", "1k"], /not a whole number of bytes/);
  bad(["--snaplen"], /needs a value/);
  assert.equal(parseArgs([]).stack, "off");
  assert.equal(parseArgs(["--stack"]).stack, "drops");
  assert.equal(parseArgs(["--stack", "all"]).stack, "all");
  assert.equal(parseArgs(["--stack=all"]).stack, "all");
  assert.equal(parseArgs(["--stack", "drops", "-m", "1"]).stack, "drops");
  // The next word is the value only when it is one: any other word starts the filter.
  const o = parseArgs(["--stack", "-m", "1", "--", "all"]);
  assert.deepEqual([o.stack, o.mark, o.command], ["drops", 1, ["all"]]);
  const f = parseArgs(["--stack", "icmp", "and", "host", "10.0.0.2"]);
  assert.deepEqual([f.stack, f.filterExpr], ["drops", "icmp and host 10.0.0.2"]);
  bad(["--stack", "everywhere"], /syntax error|everywhere/);
  bad(["--stack=everywhere"], /--stack: unknown value "everywhere" \(choose one of: drops, all\)/);
  assert.match(helpText(), /--stack \[drops\|all\]/);
});

test("words before -- are one pcap filter, -f another part, ANDed; both compiled at once", () => {
  const o = parseArgs(["-m", "1", "udp", "dst", "port", "53", "--", "dig", "x"]);
  assert.equal(o.filterExpr, "udp dst port 53");
  assert.deepEqual(o.command, ["dig", "x"]);
  assert.ok(o.filter && o.filter.ethernet.length > 0 && o.filter.raw && o.filter.raw.length > 0);
  const f = parseArgs(["-f", "tcp", "port", "80"]);
  assert.equal(f.filterExpr, "(tcp) and (port 80)");
  assert.equal(f.mark, undefined);
  // A link-layer filter has no raw-IP program: it matches no packet without an Ethernet header.
  const v = parseArgs(["--filter=ether host 00:11:22:33:44:55"]);
  assert.ok(v.filter && v.filter.raw === undefined);
  bad(["-f", "udp port"], /^bad packet filter "udp port": /);
  bad(["-f", " "], /give a filter/);
  assert.equal(parseArgs(["-m", "1"]).filter, undefined);
});

test("--netns, --ifname, --ifindex, --no-track and --track-max", () => {
  const self = parseArgs(["--netns", "/proc/self/ns/net"]);
  assert.equal(self.netnsInum, statSync("/proc/self/ns/net").ino);
  assert.equal(parseArgs(["--netns", "4026531840"]).netnsInum, 4026531840);
  bad(["--netns", "/nonexistent/ns"], /^--netns \/nonexistent\/ns: no such namespace \(give a name/);
  bad(["--netns", "no-such-ns-name"], /^--netns no-such-ns-name: no such namespace/);
  bad(["--netns", "/etc/hostname"], /is not a namespace file/);
  bad(["--netns", "0"], /not a namespace's inode number/);
  assert.equal(parseArgs(["--ifname", "veth0"]).ifname, "veth0");
  bad(["--ifname", "a-name-longer-than-15"], /is not a device name \(at most 15 characters/);
  assert.equal(parseArgs(["--ifindex", "3"]).ifindex, 3);
  bad(["--ifindex", "0"], /positive/);
  assert.equal(parseArgs([]).track, true);
  assert.equal(parseArgs(["--no-track"]).track, false);
  assert.equal(parseArgs(["--track-max", "1024"]).trackMax, 1024);
  bad(["--track-max", "0"], /positive/);
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

test("--nft-trace: its namespace as a path, no packet bytes added (a drop's own facts keep its IP header), refused where it cannot work", () => {
  const c = sessionConfig(parseArgs(["-m", "1", "--nft-trace"]));
  assert.deepEqual(c.nftTrace, {});
  assert.equal(c.snaplen, 0);
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--nft-trace", "--snaplen", "64"])).snaplen, 64);
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).nftTrace, undefined);
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).snaplen, 0);
  assert.deepEqual(
    sessionConfig(parseArgs(["-m", "1", "--nft-trace", "--netns", "/proc/self/ns/net"])).nftTrace,
    { netnsPath: "/proc/self/ns/net", netnsName: "/proc/self/ns/net" },
  );
  // Its own namespace, apart from the selection's: a router's rules while the packet is followed from
  // the client; a word after a bare --nft-trace is the filter's, not a namespace.
  const own = sessionConfig(
    parseArgs(["-m", "1", "--nft-trace=/proc/self/ns/net", "--netns", "/proc/self/ns/net"]),
  );
  assert.deepEqual(own.nftTrace, { netnsPath: "/proc/self/ns/net", netnsName: "/proc/self/ns/net" });
  bad(["-m", "1", "--nft-trace=ipft-no-such-ns"], /^--nft-trace: no such namespace ipft-no-such-ns /);
  const filtered = parseArgs(["--nft-trace", "udp", "port", "53"]);
  assert.equal(filtered.nftTraceNetns, undefined);
  assert.equal(filtered.filterWords.join(" "), "udp port 53");
  bad(["-m", "1", "--nft-trace=4026531840"], /give it as a name or a path, not the inode number 4026531840/);
  assert.match(helpText(), /--nft-trace\[=NETNS\]/);
  bad(
    ["-m", "1", "--nft-trace", "--no-verdicts"],
    /--nft-trace explains drops, and --no-verdicts leaves them out/,
  );
  const inum = statSync("/proc/self/ns/net").ino;
  bad(
    ["-m", "1", "--nft-trace", "--netns", String(inum)],
    /give --netns as a name or a path, not the inode number/,
  );
});

test("--time and --layout: their values, one clear line for a bad one, exit 2 for a conflict", () => {
  assert.equal(parseArgs(["-m", "1"]).time, undefined);
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).time, "boot");
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--time", "wall"])).time, "wall");
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--layout", "ipftrace2"])).layout, "ipftrace2");
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).layout, "ipft");
  bad(["--time", "utc"], /--time: unknown value "utc" \(choose one of: boot, relative, wall\)/);
  bad(["--layout", "pwru"], /--layout: unknown value "pwru" \(choose one of: ipft, ipftrace2\)/);
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "bin", "ipft.js"), "--layout", "ipftrace2", "--time", "wall"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    "ipft: --layout ipftrace2 prints nanoseconds since boot, as ipftrace2 does: leave out --time wall, or use the default layout\n",
  );
});

test("--identity-every reaches the session; the default reads the identity only where it can have changed", () => {
  assert.equal(sessionConfig(parseArgs(["-m", "1", "--identity-every"])).identityEvery, true);
  assert.equal(sessionConfig(parseArgs(["-m", "1"])).identityEvery, undefined);
  assert.ok(helpText().includes("--identity-every"));
});
