// Traces kept for aggregate output, 32 bytes each (skb, timestamp, function, cpu, flags: the record's head,
// copied as is) plus the 64 data bytes only when a script will dump them. Chunked typed arrays: no object
// per trace, and no large reallocation as the store grows.
import { DATA_SIZE, HEAD_SIZE, OFF_DATA } from "../events/record.js";

const CHUNK = 1 << 16;

export class TraceStore {
  private readonly heads: DataView[] = [];
  private readonly datas: Uint8Array[] = [];
  length = 0;

  constructor(readonly withData: boolean) {}

  push(dv: DataView, off: number): void {
    const i = this.length & (CHUNK - 1);
    if (i === 0) {
      this.heads.push(new DataView(new ArrayBuffer(CHUNK * HEAD_SIZE)));
      if (this.withData) this.datas.push(new Uint8Array(CHUNK * DATA_SIZE));
    }
    const h = this.heads[this.heads.length - 1]!;
    const p = i * HEAD_SIZE;
    for (let k = 0; k < HEAD_SIZE; k += 4) h.setUint32(p + k, dv.getUint32(off + k, true), true);
    if (this.withData) {
      const d = this.datas[this.datas.length - 1]!;
      d.set(new Uint8Array(dv.buffer, dv.byteOffset + off + OFF_DATA, DATA_SIZE), i * DATA_SIZE);
    }
    this.length++;
  }

  /** The chunk and byte offset of trace n's head. */
  head(n: number): [DataView, number] {
    return [this.heads[n >>> 16]!, (n & (CHUNK - 1)) * HEAD_SIZE];
  }

  data(n: number): Uint8Array {
    const c = this.datas[n >>> 16]!;
    const p = (n & (CHUNK - 1)) * DATA_SIZE;
    return c.slice(p, p + DATA_SIZE);
  }

  /** Bytes held, for the memory benchmark. */
  get bytes(): number {
    return this.heads.length * CHUNK * HEAD_SIZE + this.datas.length * CHUNK * DATA_SIZE;
  }
}
