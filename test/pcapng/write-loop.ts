// A child process for the pcapng tests: writes packets on two interfaces to a file or "-" (stdout) until
// it has written COUNT (0: until killed), flushing every FLUSH packets.
//   node write-loop.js PATH COUNT [FLUSH]
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../src/pcapng/format.js";
import { writePacket } from "../../src/pcapng/packet-input.js";
import { openBlockSink } from "../../src/pcapng/sinks.js";
import { PcapngWriter } from "../../src/pcapng/writer.js";
import { etherIpv4Udp, ipv4Udp } from "./packets.js";

const [path = "-", countArg = "0", flushArg = "16"] = process.argv.slice(2);
const count = Number(countArg);
const flush = Number(flushArg);
const w = new PcapngWriter(openBlockSink(path), { userappl: "ipft test", comments: ["write-loop"] });
const eth = w.interfaceFor({ name: "eth0", netns: 1, linktype: LINKTYPE_ETHERNET });
const raw = w.interfaceFor({ name: "lo", netns: 1, linktype: LINKTYPE_RAW });
const t0 = BigInt(Date.now()) * 1_000_000n;
for (let i = 0; count === 0 || i < count; i++) {
  const even = i % 2 === 0;
  writePacket(w, {
    interfaceId: even ? eth : raw,
    timestampNs: t0 + BigInt(i) * 1000n,
    data: even
      ? etherIpv4Udp("10.0.0.1", "10.0.0.2", 1000, 2000 + (i % 1000), 20)
      : ipv4Udp("127.0.0.1", "127.0.0.1", 1000, 3000 + (i % 1000), 20),
    comments: [`event ${i}`],
  });
  if (i % flush === flush - 1) w.flush();
}
w.close();
