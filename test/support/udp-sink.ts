// A UDP socket nobody reads, and a flood for it, for the kernel test of full receive buffers
// (test/kernel/explain.test.ts). Run as a program:
//   node udp-sink.js sink ADDR PORT FILE MS   binds ADDR:PORT with the smallest SO_RCVBUF, writes
//                                             "PID RCVBUF COMM" (the buffer the kernel set) to FILE, holds the
//                                             socket MS milliseconds without reading it
//   node udp-sink.js flood ADDR PORT COUNT    sends COUNT 200-byte datagrams to ADDR:PORT
// The sink's socket is libc's (node's own sockets read all they get).
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import koffi from "koffi";
import { bind, setsockopt, socket } from "../../src/sys/libc.js";

const [mode, addr, portText, arg, msText] = process.argv.slice(2);
const port = Number(portText);
if (mode === "flood") {
  const s = createSocket("udp4");
  const data = Buffer.alloc(200);
  let left = Number(arg);
  const next = (): void => {
    if (left-- <= 0) s.close();
    else s.send(data, port, addr!, next);
  };
  next();
} else if (mode === "sink") {
  const AF_INET = 2;
  const SOCK_DGRAM = 2;
  const SOL_SOCKET = 1;
  const SO_RCVBUF = 8;
  const fd = socket(AF_INET, SOCK_DGRAM, 0);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  const sin = Buffer.alloc(16);
  sin.writeUInt16LE(AF_INET, 0);
  sin.writeUInt16BE(port, 2);
  addr!.split(".").forEach((b, i) => {
    sin.writeUInt8(Number(b), 4 + i);
  });
  const r = fd < 0 ? fd : setsockopt(fd, SOL_SOCKET, SO_RCVBUF, one) || bind(fd, sin);
  if (r < 0) {
    process.stderr.write(`udp-sink: a socket at ${addr}:${port} failed (errno ${-r})\n`);
    process.exit(1);
  }
  const getsockopt = koffi
    .load("libc.so.6")
    .func("int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)");
  const val = Buffer.alloc(4);
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, val, [4]);
  const comm = readFileSync("/proc/self/comm", "utf8").trim();
  writeFileSync(arg!, `${process.pid} ${val.readInt32LE(0)} ${comm}\n`);
  setTimeout(() => {}, Number(msText));
} else {
  process.stderr.write("usage: udp-sink sink ADDR PORT FILE MS | flood ADDR PORT COUNT\n");
  process.exit(2);
}
