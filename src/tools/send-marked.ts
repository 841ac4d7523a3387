#!/usr/bin/env node
// A small marked-traffic sender: UDP datagrams over loopback with SO_MARK set, optionally interleaved with
// unmarked ones, so ipft has real marked packets to trace. Prints one line per datagram when asked.
//   node dist/src/tools/send-marked.js --mark 0x2a --count 5 --size 100 [--unmarked 1] [--port 9999]
//     [--rate N/s] [--duration S] [--closed] [--tcp] [--verbose]
//   --closed: no receiver, so the kernel drops each datagram (no socket on that port) and answers with ICMP
//   --tcp: marked TCP connection attempts instead of datagrams (refused unless something listens there)
import * as dgram from "node:dgram";
import { MarkedUdpSocket, markedTcpAttempt } from "./socket.js";

interface Args {
  mark: number;
  count: number;
  sizes: number[];
  unmarked: number;
  port: number;
  addr: string;
  rate: number;
  duration: number;
  verbose: boolean;
  closed: boolean;
  tcp: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = {
    mark: 0x2a,
    count: 5,
    sizes: [100],
    unmarked: 0,
    port: 9999,
    addr: "127.0.0.1",
    rate: 0,
    duration: 0,
    verbose: false,
    closed: false,
    tcp: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1] ?? "";
    const num = () => {
      i++;
      const n = Number(v);
      if (!Number.isFinite(n) || v === "") throw new Error(`${k}: "${v}" is not a number`);
      return n;
    };
    if (k === "--mark") a.mark = num();
    else if (k === "--count") a.count = num();
    else if (k === "--size") {
      i++;
      a.sizes = v.split(",").map(Number);
    } else if (k === "--unmarked") a.unmarked = num();
    else if (k === "--port") a.port = num();
    else if (k === "--addr") {
      i++;
      a.addr = v;
    } else if (k === "--rate") a.rate = num();
    else if (k === "--duration") a.duration = num();
    else if (k === "--verbose") a.verbose = true;
    else if (k === "--closed") a.closed = true;
    else if (k === "--tcp") a.tcp = true;
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (a.tcp) {
    for (let i = 0; i < a.count; i++) markedTcpAttempt(a.mark, a.addr, a.port);
    process.stderr.write(`made ${a.count} marked TCP connection attempts\n`);
    return;
  }
  // A receiver, so the datagrams are delivered rather than answered with ICMP port unreachable.
  const rx = a.closed ? undefined : dgram.createSocket("udp4");
  if (rx)
    await new Promise<void>((res, rej) => {
      rx.once("error", rej);
      rx.bind(a.port, a.addr, () => res());
    });
  const tx = new MarkedUdpSocket();
  const payloads = a.sizes.map((s) => Buffer.alloc(s, 0x61));
  let sent = 0;
  const sendOne = (i: number) => {
    for (let u = 0; u < a.unmarked; u++) {
      tx.setMark(0);
      tx.send(payloads[i % payloads.length]!, a.addr, a.port);
    }
    tx.setMark(a.mark);
    const p = payloads[i % payloads.length]!;
    tx.send(p, a.addr, a.port);
    sent++;
    if (a.verbose) console.log(`sent mark=0x${a.mark.toString(16)} size=${p.length}`);
  };
  if (a.duration > 0) {
    // Flood mode for benchmarks: as fast as possible (or at --rate) for --duration seconds.
    const end = Date.now() + a.duration * 1000;
    const batch = a.rate > 0 ? Math.max(1, Math.round(a.rate / 1000)) : 256;
    while (Date.now() < end) {
      const t0 = Date.now();
      for (let j = 0; j < batch; j++) sendOne(sent);
      if (a.rate > 0) {
        const wait = 1 - (Date.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      } else if (sent % 4096 === 0) {
        await new Promise((r) => setImmediate(r));
      }
    }
  } else {
    for (let i = 0; i < a.count; i++) sendOne(i);
  }
  await new Promise((r) => setTimeout(r, 20));
  tx.close();
  rx?.close();
  if (!a.verbose) process.stderr.write(`sent ${sent} marked datagrams\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`send-marked: ${e.message}\n`);
  process.exit(1);
});
