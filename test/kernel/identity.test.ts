// Each packet's identity (record/parts/identity.ts, output/identity-notes.ts) through the router fixture
// (test/support/router.ts) with masquerade: one trace of a UDP datagram, a TCP connection and a ping from
// the client to the server. Every packet's `===` line names it (its headers, its device and namespace by
// `ip netns` name); the datagram's events show where it entered the router (a new device and namespace)
// and, on the device it left by, the source address masquerade rewrote.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ADDR,
  makeRouter,
  masquerade,
  type Router,
  routerSkipReason,
  shell,
  tcpConnection,
} from "../support/router.js";
import { ipft, kernelSkipReason } from "../support/run.js";

const skip = kernelSkipReason() ?? routerSkipReason();
const BACKEND = process.env.IPFT_TEST_BACKEND ?? "tracepoint";
const FUNCS = "^(__dev_queue_xmit|ip_rcv|ip_forward|tcp_v4_rcv|udp_rcv|icmp_rcv)$";
const SELECT = ["-b", BACKEND, ...(BACKEND === "tracepoint" ? [] : ["-r", FUNCS])];
const UDP_PORT = 9741;
const TCP_PORT = 9742;
const READY = join(tmpdir(), "ipftid-ready");

/** The aggregate output's packets: the `===` line and the lines under it. */
function packets(stdout: string): { head: string; lines: string[] }[] {
  const out: { head: string; lines: string[] }[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("===")) out.push({ head: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe("packet identity through a router with masquerade", { skip }, () => {
  let rt: Router | undefined;
  before(() => {
    rt = makeRouter("ipftid");
    rt.nft("router", masquerade());
  });
  after(() => {
    rt?.remove();
    rmSync(READY, { force: true });
  });

  test("UDP, TCP and ICMP: named at their first event, the router's device and namespace and the NAT where they happen", () => {
    const udp = rt!.exec("client", [
      process.execPath,
      "-e",
      `const s = require("dgram").createSocket("udp4"); s.bind(40741, () => s.send("hi", ${UDP_PORT}, "${ADDR.server.v4}", () => process.exit(0)))`,
    ]);
    const r = ipft([
      ...SELECT,
      `udp port ${UDP_PORT} or tcp port ${TCP_PORT} or icmp`,
      "--",
      ...shell(
        udp.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" "),
        tcpConnection(rt!, { host: ADDR.server.v4, port: TCP_PORT, srcPort: 40742, size: 100, ready: READY }),
        rt!.exec("client", ["ping", "-c", "1", "-W", "2", ADDR.server.v4]).join(" "),
      ),
    ]);
    const show = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, show);
    const ps = packets(r.stdout);
    assert.ok(ps.length > 0, show);
    // Every packet names itself: `=== packet N, skb 0x... : <headers> | <device>@<namespace>`.
    for (const p of ps) assert.match(p.head, / : \S.* \| .+@\S+$/, show);
    const c = ADDR.client.v4.replaceAll(".", "\\.");
    const s = ADDR.server.v4.replaceAll(".", "\\.");
    const nat = ADDR.routerServerSide.v4.replaceAll(".", "\\.");
    const datagram = ps.find((p) =>
      new RegExp(`: IP ${c}\\.40741 > ${s}\\.${UDP_PORT}: UDP, length 2 \\| \\S+@ipftidc$`).test(p.head),
    );
    assert.ok(datagram, show);
    const into = datagram.lines.findIndex((l) => / -> dev veth-rc@ipftidr$/.test(l));
    const rewritten = datagram.lines.findIndex((l) =>
      new RegExp(` -> dev veth-rs@ipftidr; nat src ${c} -> ${nat}`).test(l),
    );
    assert.ok(into >= 0 && rewritten > into, show);
    assert.ok(
      ps.some((p) =>
        new RegExp(`: IP ${c}\\.40742 > ${s}\\.${TCP_PORT}: Flags \\[S\\], seq \\d+`).test(p.head),
      ),
      show,
    );
    assert.ok(
      ps.some((p) =>
        new RegExp(`: IP ${c} > ${s}: ICMP echo request, id \\d+, seq 1, length 64 \\| \\S+@ipftidc$`).test(
          p.head,
        ),
      ),
      show,
    );
    // The server's replies start in the server's namespace.
    assert.ok(
      ps.some((p) => new RegExp(`: IP ${s} > ${nat}: ICMP echo reply, .* \\| veth-s@ipftids$`).test(p.head)),
      show,
    );
  });
});
