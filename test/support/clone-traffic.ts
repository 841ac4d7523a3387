// TCP over loopback from a socket marked with SO_MARK, while a packet socket (AF_PACKET, every protocol)
// listens: the kernel clones each segment it transmits for that socket (dev_queue_xmit_nit) and each one
// it receives (packet_rcv, the skb being shared), so every marked segment has clones. Run as a program:
//   node clone-traffic.js [--mark M] [--count N] [--port P]
import { connect, createServer, type Socket } from "node:net";
import koffi from "koffi";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const mark = opt("--mark", 0x2c);
const count = opt("--count", 5);
const port = opt("--port", 9641);

const libc = koffi.load("libc.so.6");
const socketFn = libc.func("int socket(int domain, int type, int protocol)");
const setsockoptFn = libc.func(
  "int setsockopt(int fd, int level, int name, const void *value, uint32_t len)",
);
const closeFn = libc.func("int close(int fd)");
const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)
const SOL_SOCKET = 1;
const SO_MARK = 36;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const tap = socketFn(AF_PACKET, SOCK_RAW, ETH_P_ALL_BE) as number;
  if (tap < 0) throw new Error(`socket(AF_PACKET): errno ${koffi.errno()}`);
  const server = createServer((c) => c.on("data", () => {}));
  await new Promise<void>((res) => server.listen(port, "127.0.0.1", () => res()));
  const tcp: Socket = connect(port, "127.0.0.1");
  await new Promise<void>((res) => tcp.once("connect", () => res()));
  const fd = (tcp as unknown as { _handle: { fd: number } })._handle.fd;
  const v = Buffer.alloc(4);
  v.writeUInt32LE(mark >>> 0);
  if ((setsockoptFn(fd, SOL_SOCKET, SO_MARK, v, 4) as number) < 0)
    throw new Error(`setsockopt(SO_MARK): errno ${koffi.errno()}`);
  for (let i = 0; i < count; i++) {
    tcp.write(Buffer.alloc(300, 0x63));
    await sleep(10);
  }
  await sleep(50);
  tcp.end();
  await sleep(20);
  server.close();
  closeFn(tap);
  process.stderr.write(`clone traffic: ${count} marked TCP writes with a packet socket open\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`clone-traffic: ${e.message}\n`);
  process.exit(1);
});
