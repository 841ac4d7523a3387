// How an event's parts print (record/parts/: each part says how): json's keys after the event's own, in the
// registry's json order; the text outputs' lines under the event's line (the stack). Frames are named once
// per address.
import { JSON_PARTS, PARTS, partStart, stackAddrs } from "../record/parts/index.js";
import { stackLines } from "../record/parts/stack.js";
import { hasParts, readStackDepth } from "../record/record.js";
import type { StackNamer } from "./types.js";

export { hexOf } from "../record/parts/packet.js";

const TEXT_PARTS = PARTS.filter((p) => p.printText !== undefined);

export class ExtrasText {
  private readonly frames = new Map<bigint, string>();
  /** Names a frame's address (cached). */
  readonly frame = (addr: bigint): string => {
    let t = this.frames.get(addr);
    if (t === undefined) {
      t = this.namer ? this.namer.frame(addr) : `0x${addr.toString(16)}`;
      this.frames.set(addr, t);
    }
    return t;
  };

  constructor(private readonly namer: StackNamer | undefined) {}

  /** The parts' lines under the event's line ("" when it has none). */
  lines(dv: DataView, off: number): string {
    if (!hasParts(dv, off)) return "";
    let s = "";
    for (let i = 0; i < TEXT_PARTS.length; i++) {
      const p = TEXT_PARTS[i]!;
      if (p.size(dv, off) !== 0) s += p.printText!(dv, off, partStart(dv, off, p), this.frame);
    }
    return s;
  }

  /** What the aggregate output keeps of an event to print its lines later: the stack part's addresses
   * (the one part with lines), or undefined. */
  kept(dv: DataView, off: number): BigUint64Array | undefined {
    return readStackDepth(dv, off) > 0 ? BigUint64Array.from(stackAddrs(dv, off)) : undefined;
  }

  /** The lines of what kept() kept. */
  keptLines(addrs: BigUint64Array): string {
    return stackLines([...addrs], this.frame);
  }

  /** `,"wire_len":N,...,"stack":[...],"ifname":"lo",...`: each part's keys, only when the event has it. */
  json(dv: DataView, off: number): string {
    if (!hasParts(dv, off)) return "";
    let s = "";
    for (let i = 0; i < JSON_PARTS.length; i++) {
      const p = JSON_PARTS[i]!;
      if (p.size(dv, off) !== 0) s += p.printJson(dv, off, partStart(dv, off, p), this.frame);
    }
    return s;
  }
}
