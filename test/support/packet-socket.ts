// A packet socket closed with packets queued, for the kernel test of benign drops (test/kernel/explain.test.ts).
// Run as a program: `node packet-socket.js HOST PORT` opens an AF_PACKET socket (it gets a copy of every
// packet of this namespace), sends one UDP datagram to HOST:PORT from a connected UDP socket, waits for what
// comes back, and closes the socket without reading: the kernel frees the queued copies with the socket's
// queue. An ICMP port unreachable coming back is printed (`packet-socket: ECONNREFUSED` on stderr).
import { createSocket } from "node:dgram";
import koffi from "koffi";

const [host, portText] = process.argv.slice(2);
const libc = koffi.load("libc.so.6");
const socket = libc.func("int socket(int domain, int type, int protocol)");
const close = libc.func("int close(int fd)");
const AF_PACKET = 17;
const SOCK_RAW = 3;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)

const fd = socket(AF_PACKET, SOCK_RAW, ETH_P_ALL_BE) as number;
if (fd < 0) {
  process.stderr.write(`packet-socket: socket(AF_PACKET) failed (errno ${koffi.errno()})\n`);
  process.exit(1);
}
const udp = createSocket("udp4");
// The port unreachable, reported to the connected socket.
udp.on("error", (e: NodeJS.ErrnoException) => process.stderr.write(`packet-socket: ${e.code}\n`));
udp.connect(Number(portText), host!, () =>
  udp.send(Buffer.from("queued"), () => {
    setTimeout(() => {
      close(fd);
      udp.close();
    }, 300);
  }),
);
