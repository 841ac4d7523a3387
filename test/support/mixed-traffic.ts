// Mixed loopback traffic for selection tests: UDP datagrams to two ports (each received and read), a TCP
// connection carrying a few writes, and ICMP echo (ping), interleaved. Run as a program:
//   node mixed-traffic.js [--family 4|6] [--count N] [--udp-port P] [--other-port Q] [--tcp-port T]
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect, createServer } from "node:net";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const family = opt("--family", 4);
const count = opt("--count", 5);
const udpPort = opt("--udp-port", 9611);
const otherPort = opt("--other-port", 9612);
const tcpPort = opt("--tcp-port", 9613);
const host = family === 6 ? "::1" : "127.0.0.1";
const type = family === 6 ? "udp6" : "udp4";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bound(port: number) {
  const s = createSocket(type);
  let got = 0;
  s.on("message", () => got++);
  await new Promise<void>((res) => s.bind(port, host, () => res()));
  return { s, got: () => got };
}

async function main(): Promise<void> {
  const a = await bound(udpPort);
  const b = await bound(otherPort);
  const server = createServer((c) => c.on("data", () => {}));
  await new Promise<void>((res) => server.listen(tcpPort, host, () => res()));
  const tcp = connect(tcpPort, host);
  await new Promise<void>((res) => tcp.once("connect", () => res()));
  const tx = createSocket(type);
  for (let i = 0; i < count; i++) {
    tx.send(Buffer.alloc(64 + i, 0x61), otherPort, host);
    tx.send(Buffer.alloc(100, 0x62), udpPort, host);
    tcp.write(Buffer.alloc(200, 0x63));
    tx.send(Buffer.alloc(80, 0x64), otherPort, host);
    await sleep(5);
  }
  spawnSync("ping", [family === 6 ? "-6" : "-4", "-c", "2", "-i", "0.01", host], { stdio: "ignore" });
  await sleep(50);
  tcp.end();
  await sleep(20);
  for (const s of [tx, a.s, b.s]) s.close();
  server.close();
  process.stderr.write(`mixed traffic: ${count} datagrams to ${udpPort}, received ${a.got()}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`mixed-traffic: ${e.message}\n`);
  process.exit(1);
});
