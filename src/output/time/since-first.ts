// Each event's time since its packet's first event (`+12.345us`, elapsed-text.ts), for the stream output,
// which sees events one at a time: the first event's timestamp per packet id, in a ring as large as the
// tracker's bound on open packets (packet/tracker.ts MAX_TRACKED), so a packet that many ids older than
// the newest starts again at +0ns.
import { HIGH_WORD, OFF_TSTAMP } from "../../record/record.js";
import { MAX_TRACKED } from "../packet/tracker.js";
import { diffOfHalves, elapsedText } from "./elapsed-text.js";

export class SinceFirst {
  private readonly ids: Float64Array;
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;

  constructor(private readonly size = MAX_TRACKED) {
    this.ids = new Float64Array(size);
    this.lo = new Uint32Array(size);
    this.hi = new Uint32Array(size);
  }

  /** Nanoseconds since the first event of `packet` (0 at its first event). */
  ns(dv: DataView, off: number, packet: number): number {
    const lo = dv.getUint32(off + OFF_TSTAMP, true);
    const hi = dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true);
    const at = packet % this.size;
    if (this.ids[at] !== packet) {
      this.ids[at] = packet;
      this.lo[at] = lo;
      this.hi[at] = hi;
      return 0;
    }
    return diffOfHalves(lo, hi, this.lo[at]!, this.hi[at]!);
  }

  text(dv: DataView, off: number, packet: number): string {
    return elapsedText(this.ns(dv, off, packet));
  }
}
