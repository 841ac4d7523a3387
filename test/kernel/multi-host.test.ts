// Three "machines" (the router fixture's client, router and server namespaces), each traced by its own
// ipft writing its own file (--netns NS -w FILE), then `--read` of the three files: each UDP datagram and
// ICMP echo the client sends through the masquerading router is one journey client -> router -> server,
// recognised across the files by what it carries (the router rewrote its source address). Backend
// independent (the merge reads files): host only.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ADDR, makeRouter, masquerade, type Router, routerSkipReason } from "../support/router.js";
import { hostOnlySkipReason, IPFT, ipft, jsonLines, kernelSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? routerSkipReason() ?? hostOnlySkipReason();
const PORT = 9741;
const SIDES = ["client", "router", "server"] as const;

let router: Router | undefined;
let dir: string | undefined;
const running = new Set<ChildProcess>();
after(() => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGINT");
  router?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ipft in the background until SIGINT; resolves once its ready file exists. */
async function start(args: string[], ready: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [IPFT, ...args, "--ready-file", ready], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const end = Date.now() + 60_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`ipft did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stderr: () => err };
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((res) => {
    if (c.exitCode !== null || c.signalCode !== null) res(c.exitCode);
    else c.once("exit", (code) => res(code));
  });

interface Line {
  packet_id: number;
  host: string;
  host_from?: string;
  verdict?: string;
  explanation?: { cause: string; facts?: Record<string, string> };
}

test("one ipft per namespace, three files, one journey per packet across them", { skip }, async () => {
  router = makeRouter("ipftmh");
  router.nft("router", masquerade());
  dir = mkdtempSync(join(tmpdir(), "ipft-multi-"));
  const files = SIDES.map((s) => join(dir!, `${s}.pcapng`));
  const runs = await Promise.all(
    SIDES.map((s, i) =>
      start(
        ["--netns", router!.ns[s], "--no-track", "-w", files[i]!, `udp port ${PORT} or icmp`],
        join(dir!, `${s}.ready`),
      ),
    ),
  );
  // Two echo requests and two datagrams to a closed port (the server drops them: NO_SOCKET).
  const c = router.exec("client", [
    "bash",
    "-c",
    `ping -q -c 2 -i 0.2 -W 1 ${ADDR.server.v4}; for i in 1 2; do echo multi-host-$i > /dev/udp/${ADDR.server.v4}/${PORT}; done`,
  ]);
  const sent = spawnSync(c[0]!, c.slice(1), { encoding: "utf8" });
  assert.equal(sent.status, 0, sent.stderr);
  await new Promise((r) => setTimeout(r, 300));
  for (const r of runs) r.child.kill("SIGINT");
  for (const r of runs) assert.equal(await exited(r.child), 0, r.stderr());

  const read = ipft(["--read", ...files, "--host-names", "client,router,server", "-o", "json"]);
  assert.equal(read.status, 0, read.stderr);
  const journeys = new Map<number, Line[]>();
  for (const l of read.stdout
    .trim()
    .split("\n")
    .map((x) => JSON.parse(x) as Line))
    journeys.set(l.packet_id, [...(journeys.get(l.packet_id) ?? []), l]);
  // Each journey's machines, each once in the order first seen.
  const paths = [...journeys.values()].map((ls) => [...new Set(ls.map((l) => l.host))].join(">"));
  const across = paths.filter((p) => p === "client>router>server");
  // Two echo requests, two datagrams; each machine change marked where it happens.
  assert.ok(across.length >= 4, `${paths.join("\n")}\n${read.stderr}`);
  for (const ls of journeys.values()) {
    for (const [k, l] of ls.entries()) {
      const prev = ls[k - 1];
      assert.equal(l.host_from, prev && prev.host !== l.host ? prev.host : undefined, JSON.stringify(l));
    }
  }
  assert.match(
    read.stderr,
    /merged 3 files \(client, router, server\): .*one boot, one clock: times are exact/,
  );
  // --drops across the files: the two datagrams the server dropped, each with its whole journey.
  const drops = ipft(["--read", ...files, "--host-names", "client,router,server", "--drops", "-o", "json"]);
  assert.equal(drops.status, 0, drops.stderr);
  const dropped = new Map<number, Set<string>>();
  for (const l of drops.stdout
    .trim()
    .split("\n")
    .map((x) => JSON.parse(x) as Line))
    dropped.set(l.packet_id, (dropped.get(l.packet_id) ?? new Set()).add(l.host));
  assert.deepEqual(
    [...dropped.values()].map((s) => [...s].join(">")),
    ["client>router>server", "client>router>server"],
    drops.stderr,
  );
  // Each drop explained with the facts the server's live run looked up (its namespace's name, kept in
  // the server's file), not "not in the trace file".
  const why = jsonLines<Line>(drops.stdout).filter((l) => l.verdict === "drop");
  assert.equal(why.length, 2, drops.stdout);
  for (const l of why) {
    assert.equal(l.explanation?.cause, "NO_SOCKET", JSON.stringify(l));
    assert.equal(l.explanation?.facts?.namespace, router!.ns.server, JSON.stringify(l));
  }
});
