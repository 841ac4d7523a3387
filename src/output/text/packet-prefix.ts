// The text that starts an event's line in json and stream: its packet id and its skb's address. Consecutive
// events are mostly one packet's, so the text is kept and made again only when either changes (no number
// or hex formatting per event).
import { HIGH_WORD, OFF_SKB } from "../../record/record.js";
import { hexOfHalves } from "./u64-text.js";

export class PacketPrefix {
  private packet = -1;
  private lo = -1;
  private hi = -1;
  private text = "";

  /** `make(packet, skbHex)` builds the text from the id and the address. */
  constructor(private readonly make: (packet: number, skb: string) => string) {}

  get(dv: DataView, off: number, packet: number): string {
    const lo = dv.getUint32(off + OFF_SKB, true);
    const hi = dv.getUint32(off + OFF_SKB + HIGH_WORD, true);
    if (packet !== this.packet || lo !== this.lo || hi !== this.hi) {
      this.packet = packet;
      this.lo = lo;
      this.hi = hi;
      this.text = this.make(packet, hexOfHalves(lo, hi));
    }
    return this.text;
  }
}
