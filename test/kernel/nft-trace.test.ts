// --nft-trace names the nftables rule or chain policy that dropped a packet, on real traffic through the
// router of test/support/router.ts: TCP to a port its forward chain drops by a rule (IPv4 and IPv6), UDP that
// a later chain's drop policy catches. Two ipft runs: one killed (SIGKILL) once its trace table is in, one
// that removes that leftover table at its start, traces the traffic and removes its own table at exit.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADDR, forwardDrop, makeRouter, type Router, routerSkipReason, shell } from "../support/router.js";
import { hasTool, IPFT, ipft, jsonLines, kernelSkipReason, onePassSkipReason } from "../support/run.js";

const skip =
  kernelSkipReason() ??
  onePassSkipReason() ??
  routerSkipReason() ??
  (hasTool("nsenter") ? undefined : "needs nsenter (util-linux)") ??
  (hasTool("bash") ? undefined : "needs bash (its /dev/tcp and /dev/udp send the traffic)");
const DROPPED_PORT = 9751;
const POLICY_PORT = 9752;
/** A second chain, after the fixture's: accepts all but UDP, whose packets its drop policy takes. */
const POLICY_DROP =
  "table inet ipft_pol {\nchain late { type filter hook forward priority 10; policy drop; meta l4proto != udp accept; }\n}\n";

type Event = Record<string, unknown> & {
  explanation?: { cause: string; failure: boolean; text: string; facts?: Record<string, string> };
};

describe("nftables rule that dropped a packet (--nft-trace)", { skip }, () => {
  let rt: Router | undefined;
  const dir = mkdtempSync(join(tmpdir(), "ipft-nft-"));
  let killedTable = "";
  let tablesAfterKill = "";
  let tablesAfter = "";
  let live: { status: number; stdout: string; stderr: string };
  let events: Event[] = [];
  const tables = () => spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).stdout;
  const inRouter = (argv: string[]) => {
    const [cmd, ...args] = rt!.exec("router", argv);
    return spawnSync(cmd!, args, { encoding: "utf8" }).stdout;
  };

  before(async () => {
    rt = makeRouter("ipftnt");
    rt.nft("router", forwardDrop(DROPPED_PORT));
    rt.nft("router", POLICY_DROP);
    const sel = ["-b", "tracepoint", "--netns", rt.ns.router, "--nft-trace"];
    // A run killed with SIGKILL cannot remove its table: the next run does.
    const ready = join(dir, "ready");
    const p = spawn(process.execPath, [IPFT, ...sel, "host 10.203.9.9", "--ready-file", ready], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const done = new Promise((r) => p.on("close", r));
    for (let i = 0; i < 600 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
    killedTable = /added nft table inet (ipft_trace_\d+)/.exec(err)?.[1] ?? `(none)\n${err}`;
    p.kill("SIGKILL");
    await done;
    tablesAfterKill = inRouter(["nft", "list", "tables"]);

    // The traffic, from the client: a script file, so that no quoting crosses `ip netns exec`.
    const traffic = join(dir, "traffic.sh");
    const tcp = (addr: string) => `timeout 1 bash -c '</dev/tcp/${addr}/${DROPPED_PORT}' 2>/dev/null`;
    writeFileSync(
      traffic,
      `${tcp(ADDR.server.v4)}\n${tcp(ADDR.server.v6)}\necho x >/dev/udp/${ADDR.server.v4}/${POLICY_PORT}\n`,
    );
    // The rules are the router's, the packets are followed from the client: --nft-trace=NETNS traces the
    // router's nftables while the filter selects in every namespace. No --snaplen: each drop's own facts
    // keep the IP header it is matched by.
    live = ipft([
      "-b",
      "tracepoint",
      `--nft-trace=${rt.ns.router}`,
      "-o",
      "json",
      `host ${ADDR.client.v4} or host ${ADDR.client.v6}`,
      "--",
      ...shell(`${rt.exec("client", ["bash", traffic]).join(" ")} || true`, "sleep 0.2"),
    ]);
    tablesAfter = inRouter(["nft", "list", "tables"]);
    events = jsonLines<Event>(live.stdout);
  });
  after(() => {
    rt?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const nftDrops = () => events.filter((e) => e.drop_reason === "NETFILTER_DROP");

  test("a killed ipft's table is left, and removed at the next start; each run's table is gone at its exit", () => {
    assert.match(killedTable, /^ipft_trace_\d+$/);
    assert.match(tablesAfterKill, new RegExp(`table inet ${killedTable}\\b`), "SIGKILL leaves the table");
    assert.equal(live.status, 0, live.stderr);
    assert.match(live.stderr, new RegExp(`removed nft table inet ${killedTable} \\(left by an ipft`));
    assert.match(
      live.stderr,
      /added nft table inet ipft_trace_\d+ in ipftntr: traces every packet \(removed at exit\)/,
    );
    assert.doesNotMatch(tablesAfter, /ipft_trace_/, tablesAfter);
    assert.match(tablesAfter, /table inet ipft_fwd/, "the router's own tables stay");
    assert.doesNotMatch(tables(), /ipft_trace_/, "nothing was added to ipft's own namespace");
  });

  test("a rule's drop names its table, chain, hook, handle and text (IPv4 and IPv6), in json", () => {
    const listing = inRouter(["nft", "-a", "list", "chain", "inet", "ipft_fwd", "forward"]);
    const handle = /tcp dport \d+ counter packets \d+ bytes \d+ drop # handle (\d+)/.exec(listing)?.[1];
    assert.ok(handle, "the fixture's rule has a handle");
    const byRule = nftDrops().filter((e) => e.explanation?.cause === "NFT_RULE");
    assert.ok(byRule.length >= 2, live.stdout + live.stderr);
    for (const e of byRule) {
      assert.deepEqual(Object.keys(e.explanation!.facts!), ["table", "chain", "hook", "handle", "rule"]);
      assert.equal(e.explanation!.facts!.table, "inet ipft_fwd");
      assert.equal(e.explanation!.facts!.chain, "forward");
      assert.equal(e.explanation!.facts!.hook, "forward");
      assert.equal(e.explanation!.facts!.handle, handle);
      assert.match(
        e.explanation!.facts!.rule!,
        new RegExp(`^tcp dport ${DROPPED_PORT} counter packets \\d+ bytes \\d+ drop$`),
      );
      assert.equal(e.explanation!.text, "an nftables rule dropped it");
    }
    // Matched by each packet's IP header, IPv4's and IPv6's: each dropped packet's identity, taken at its
    // first event in the client, names it.
    const named = new Map(events.filter((e) => e.identity).map((e) => [e.packet_id, String(e.identity)]));
    const kinds = new Set(byRule.map((e) => /^IP6? /.exec(named.get(e.packet_id) ?? "")?.[0]));
    assert.deepEqual([...kinds].sort(), ["IP ", "IP6 "], live.stdout);
    assert.ok(
      byRule.every((e) => e.packet === undefined),
      "no packet bytes were asked for",
    );
  });

  test("a chain policy's drop says so; the summary groups drops by rule and policy", () => {
    const byPolicy = nftDrops().filter((e) => e.explanation?.cause === "NFT_POLICY");
    assert.equal(byPolicy.length, 1, live.stdout);
    assert.deepEqual(byPolicy[0]!.explanation!.facts, {
      table: "inet ipft_pol",
      chain: "late",
      hook: "forward",
      policy: "drop",
    });
    assert.equal(
      nftDrops().length,
      nftDrops().filter((e) => e.explanation?.facts?.table).length,
      "every drop matched",
    );
    assert.match(live.stderr, /dropped: .*nft rule inet ipft_fwd forward handle \d+ \(\d+\)/);
    assert.match(live.stderr, /nft chain inet ipft_pol late policy \(1\)/);
    assert.match(
      live.stderr,
      /^ {2}NFT_RULE: an nftables rule dropped it \(table inet ipft_fwd, chain forward, hook forward, handle \d+, rule tcp dport/m,
    );
  });
});
