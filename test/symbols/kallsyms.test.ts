// Kallsyms parsed from fixtures: resolving addresses, names, the reasons for hidden addresses. The running
// kernel's /proc/kallsyms and ipft without CAP_SYSLOG are in test/host/kallsyms.test.ts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { lateFreeRange } from "../../src/plan/late-free.js";
import { Kallsyms, KallsymsError } from "../../src/symbols/index.js";
import { hiddenAddressesReason } from "../../src/symbols/kallsyms.js";
import { CAP_BPF, CAP_SYSLOG, hasCap, parseCapEff } from "../../src/sys/caps.js";

// Out of order on purpose (modules are listed after vmlinux at lower or higher addresses), with data
// symbols that must not be used to name code, a local name that repeats, aliases at one address, and a
// weak function (W) that must be named itself, not as an offset into the symbol before it.
const FIXTURE = [
  "ffffffffc0a01000 t veth_xmit\t[veth]",
  "ffffffffc0a01200 T veth_open\t[veth]",
  "ffffffff81000000 T _stext",
  "ffffffff81000100 t __pfx_ip_rcv",
  "ffffffff81000110 T ip_rcv",
  "ffffffff81000200 D some_data",
  "ffffffff81000300 t helper",
  "ffffffff81000400 T ip_rcv_finish",
  "ffffffff81000500 t helper",
  "ffffffff81000600 t __pfx_abort",
  "ffffffff81000610 W abort",
  "ffffffff82000000 B bss_thing",
  "ffffffffc0800000 t br_handle_frame\t[bridge]",
  "0000000000001000 A fixed_percpu_data",
  "",
].join("\n");

test("resolve: nearest text symbol at or below, with module and offset", () => {
  const k = Kallsyms.parse(FIXTURE);
  assert.equal(k.size, 11, "only t/T/w/W symbols are kept");
  assert.deepEqual(k.resolve(0xffffffff81000110n), { name: "ip_rcv", module: "vmlinux", offset: 0 });
  assert.deepEqual(k.resolve(0xffffffff81000115n), { name: "ip_rcv", module: "vmlinux", offset: 5 });
  assert.deepEqual(k.resolve(0xffffffff81000104n), { name: "__pfx_ip_rcv", module: "vmlinux", offset: 4 });
  // some_data (D) at 0x200 is not text: ip_rcv still covers it.
  assert.deepEqual(k.resolve(0xffffffff81000210n), { name: "ip_rcv", module: "vmlinux", offset: 0x100 });
  assert.deepEqual(k.resolve(0xffffffffc0a01004n), { name: "veth_xmit", module: "veth", offset: 4 });
  assert.deepEqual(k.resolve(0xffffffffc0a01300n), { name: "veth_open", module: "veth", offset: 0x100 });
  assert.deepEqual(k.resolve(0xffffffffc0800001n), { name: "br_handle_frame", module: "bridge", offset: 1 });
  assert.deepEqual(k.resolve(0xffffffff81000611n), { name: "abort", module: "vmlinux", offset: 1 });
  assert.deepEqual(k.resolve(0xffffffff81000610n + 0x100000n), {
    name: "abort",
    module: "vmlinux",
    offset: 1 << 20,
  });
  assert.equal(k.resolve(0xffffffffc0000000n), undefined, "in the gap between vmlinux and the modules");
  assert.equal(k.resolve(0xffffffff80ffffffn), undefined, "below the first symbol");
  assert.equal(k.resolve(0n), undefined);
  assert.equal(k.resolve(0xffffffffc0a01200n + (2n << 20n)), undefined, "far past the last symbol");
});

test("address: text symbols by name, lowest address for repeated local names, many lookups", () => {
  const k = Kallsyms.parse(FIXTURE);
  // The first lookups scan, later ones use a map: both must agree.
  for (let round = 0; round < 3; round++) {
    assert.equal(k.address("ip_rcv"), 0xffffffff81000110n);
    assert.equal(k.address("helper"), 0xffffffff81000300n);
    assert.equal(k.address("abort"), 0xffffffff81000610n, "weak functions are kept");
    assert.equal(k.address("veth_xmit"), 0xffffffffc0a01000n);
    assert.equal(k.address("some_data"), undefined, "data symbols are not kept");
    assert.equal(k.address("ip_rc"), undefined, "a prefix is not a name");
  }
  assert.equal(k.moduleOf("veth_open"), "veth");
  assert.equal(k.moduleOf("ip_rcv_finish"), "vmlinux");
  assert.deepEqual([...k.repeatedNames()], ["helper"], "names two text symbols share");
});

test("range: a function's code runs to the next text symbol; the late free's code, by kernel", () => {
  const k = Kallsyms.parse(FIXTURE);
  // Data symbols do not end it; a repeated local name is its lowest; the last symbol has no end.
  assert.deepEqual(k.range("ip_rcv"), { lo: 0xffffffff81000110n, hi: 0xffffffff81000300n });
  assert.deepEqual(k.range("helper"), { lo: 0xffffffff81000300n, hi: 0xffffffff81000400n });
  assert.deepEqual(k.range("veth_xmit"), { lo: 0xffffffffc0a01000n, hi: 0xffffffffc0a01200n });
  assert.equal(k.range("veth_open"), undefined);
  assert.equal(k.range("skb_defer_free_flush"), undefined);
  // Its own function where the kernel has one (6.18), else the softirq it is inlined in (6.12).
  const own = Kallsyms.parse(
    "ffffffff81e9eee0 t skb_defer_free_flush\nffffffff81e9f0a0 t next_fn\nffffffff81eaf4a0 t net_rx_action\nffffffff81eaf900 t after\n",
  );
  assert.deepEqual(lateFreeRange(own), { lo: 0xffffffff81e9eee0n, hi: 0xffffffff81e9f0a0n });
  const inlined = Kallsyms.parse("ffffffff81eaf4a0 t net_rx_action\nffffffff81eaf900 t after\n");
  assert.deepEqual(lateFreeRange(inlined), { lo: 0xffffffff81eaf4a0n, hi: 0xffffffff81eaf900n });
  assert.equal(lateFreeRange(k), undefined);
});

test("all-zero addresses, empty and unreadable files are one clear line", () => {
  const zeroed = FIXTURE.replace(/^[0-9a-f]{16}/gm, "0000000000000000");
  assert.throws(
    () => Kallsyms.parse(zeroed, "/proc/kallsyms", () => "the reason"),
    (e: Error) =>
      e instanceof KallsymsError &&
      e.name === "KallsymsError" &&
      e.message === "/proc/kallsyms shows every address as 0: the reason",
  );
  assert.throws(() => Kallsyms.parse("", "x"), /^KallsymsError: x lists no kernel functions$/);
  assert.throws(() => Kallsyms.parse("zzzz T foo\n"), /bad address in "zzzz T foo"/);
  assert.throws(
    () => Kallsyms.load("/nonexistent/kallsyms"),
    /^KallsymsError: cannot read \/nonexistent\/kallsyms: ENOENT/,
  );
});

const BPF_PERFMON = (1n << 39n) | (1n << 38n);
const WITH_SYSLOG = BPF_PERFMON | (1n << 34n);

test("zero addresses: the reason names what is missing, CAP_SYSLOG or a kptr_restrict of 2", () => {
  const why = hiddenAddressesReason;
  // kptr_restrict 0 with perf_event_paranoid 2 (Debian's default): CAP_SYSLOG is what is missing.
  const r0 = why({ kptrRestrict: 0, perfEventParanoid: 2, caps: BPF_PERFMON });
  assert.match(
    r0,
    /^ipft lacks CAP_SYSLOG \(kernel\.kptr_restrict is 0, but kernel\.perf_event_paranoid is 2/,
  );
  assert.match(r0, /run ipft with CAP_SYSLOG as well as CAP_BPF and CAP_PERFMON/);
  assert.doesNotMatch(r0, /set kernel\.kptr_restrict/);
  const r1 = why({ kptrRestrict: 1, perfEventParanoid: 2, caps: BPF_PERFMON });
  assert.match(
    r1,
    /^ipft lacks CAP_SYSLOG \(kernel\.kptr_restrict is 1, which shows them only to a process with CAP_SYSLOG\)/,
  );
  // 2 hides them from everyone, capabilities or not.
  for (const caps of [BPF_PERFMON, WITH_SYSLOG]) {
    assert.match(
      why({ kptrRestrict: 2, perfEventParanoid: 2, caps }),
      /^kernel\.kptr_restrict is 2, which hides them even from root; set it to 1 \(sysctl -w kernel\.kptr_restrict=1\)/,
    );
  }
  // Has CAP_SYSLOG and still zeros: the capability does not count where the kernel checks it.
  assert.match(why({ kptrRestrict: 1, perfEventParanoid: 2, caps: WITH_SYSLOG }), /initial user namespace/);
  // Nothing known: still names CAP_SYSLOG.
  assert.match(why({}), /^ipft needs CAP_SYSLOG to see them/);
});

test("CapEff parsing: the effective mask, bit 34 is CAP_SYSLOG", () => {
  const status =
    "Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001fbfeffffff\n";
  const eff = parseCapEff(status)!;
  assert.equal(eff, 0x1fbfeffffffn);
  assert.equal(hasCap(eff, CAP_SYSLOG), false);
  assert.equal(hasCap(eff, CAP_BPF), true);
  assert.equal(parseCapEff("Name:\tx\n"), undefined);
});

test("load reads a file", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipft-ksyms-"));
  try {
    writeFileSync(join(dir, "kallsyms"), FIXTURE);
    assert.equal(Kallsyms.load(join(dir, "kallsyms")).address("ip_rcv_finish"), 0xffffffff81000400n);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
