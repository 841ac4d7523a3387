// A TCP or UDP peer for kernel tests that need traffic between network namespaces (where SO_MARK does not
// survive, so nftables marks instead). Run as a program:
//   node traffic.js server tcp|udp HOST PORT READY_FILE     (one connection, or one datagram echoed back)
//   node traffic.js client tcp|udp HOST PORT SRC_PORT SIZE READY_FILE
//   node traffic.js attempt tcp HOST PORT MS   (a connection that may fail: refused, or no answer in MS)
import { createSocket } from "node:dgram";
import { existsSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [role, kind, host, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);

function waitFor(path: string): void {
  const end = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`traffic: the server never became ready (${path})`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

if (role === "attempt") {
  const c = connect({ host: host!, port });
  const done = (how: string) => {
    process.stderr.write(`traffic: connecting to ${host} port ${port}: ${how}\n`);
    process.exit(0);
  };
  c.on("connect", () => done("connected"));
  c.on("error", (e) => done(e.message));
  setTimeout(() => done("no answer"), Number(rest[0]));
} else if (role === "server") {
  const ready = rest[0]!;
  if (kind === "tcp") {
    const srv = createServer((s) => {
      s.on("data", () => {});
      s.on("end", () => {
        s.end();
        srv.close();
      });
    });
    srv.listen(port, host, () => writeFileSync(ready, ""));
  } else {
    const s = createSocket("udp4");
    // Echoed back, so the server's side sends a marked packet of its own.
    s.on("message", (msg, from) => s.send(msg, from.port, from.address, () => s.close()));
    s.bind(port, host, () => writeFileSync(ready, ""));
  }
  setTimeout(() => process.exit(3), 20_000).unref();
} else {
  const [srcPort, size, ready] = rest;
  waitFor(ready!);
  const payload = Buffer.alloc(Number(size), 0x61);
  if (kind === "tcp") {
    const c = connect({ host: host!, port, localPort: Number(srcPort) }, () => c.end(payload));
    c.on("data", () => {});
    c.on("close", () => process.exit(0));
  } else {
    const s = createSocket("udp4");
    s.on("message", () => s.close());
    s.bind(Number(srcPort), () => s.send(payload, port, host));
  }
}
