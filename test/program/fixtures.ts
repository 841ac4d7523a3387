// What the program tests build with: the sk_buff, net_device and sock offsets (those of a 6.x x86_64 kernel)
// and a main program's spec. The programs are checked for their structure, not run.
import type { MainProgramSpec } from "../../src/program/main-program.js";
import type { SkbLayout } from "../../src/program/skb-layout.js";

export const LAYOUT: SkbLayout = {
  len: 112,
  data: 200,
  head: 192,
  tail: 184,
  macHeader: 182,
  networkHeader: 180,
  dev: 16,
  sk: 24,
  devIfindex: 224,
  devName: 280,
  devNet: 264,
  skNet: 48,
  netInum: 176,
};

/** A main program's spec: the skb in argument 0, mark 0x2a, made-up map fds; `over` replaces any part. */
export function mainSpec(over: Partial<MainProgramSpec> = {}): MainProgramSpec {
  return {
    skb: { kind: "args", index: 0 },
    func: { kind: "const", value: 0x100000005n },
    isReturn: false,
    markOffset: 164,
    mark: 0x2a,
    mask: 0xffffffff,
    ringFd: 7,
    lostFd: 8,
    probeRead: 113,
    module: [],
    ...over,
  };
}
