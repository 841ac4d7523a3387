// Reads a BPF ring buffer in place: the kernel's pages are mapped into this process, records are read
// through a DataView over them, and only the consumer position is written back. No syscall per record.

import { createMap } from "../sys/bpf.js";
import { MapType } from "../sys/bpf-abi.js";
import { close, MAP_SHARED, mmap, munmap, PROT_READ, PROT_WRITE, view } from "../sys/libc.js";

const PAGE = 4096;
const HDR = 8;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;

export type RecordHandler = (data: DataView, offset: number, length: number) => void;

export class RingReader {
  readonly fd: number;
  readonly size: number;
  private readonly consAddr: bigint;
  private readonly prodAddr: bigint;
  private readonly cons: BigUint64Array;
  private readonly prod: DataView;
  private readonly data: DataView;
  private readonly mask: number;
  private closed = false;

  /** size: a power of two, at least one page. */
  constructor(size: number, name = "ipft_events") {
    if (size < PAGE || (size & (size - 1)) !== 0) {
      throw new Error(`ring size must be a power of two of at least ${PAGE} bytes, got ${size}`);
    }
    this.size = size;
    this.mask = size - 1;
    this.fd = createMap({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size, name });
    try {
      this.consAddr = mmap(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, this.fd, 0, "ring buffer consumer page");
      // The producer page, then the data pages mapped twice so a record that wraps reads contiguously.
      this.prodAddr = mmap(PAGE + 2 * size, PROT_READ, MAP_SHARED, this.fd, PAGE, "ring buffer data");
    } catch (e) {
      close(this.fd);
      throw e;
    }
    this.cons = new BigUint64Array(view(this.consAddr, PAGE), 0, 1);
    this.prod = new DataView(view(this.prodAddr, PAGE));
    this.data = new DataView(view(this.prodAddr + BigInt(PAGE), 2 * size));
  }

  /** Bytes waiting to be read. */
  pending(): number {
    return this.producerPos() - Number(this.cons[0]);
  }

  private producerPos(): number {
    // Positions grow by bytes written; they stay below 2^53 for centuries of tracing.
    return this.prod.getUint32(0, true) + this.prod.getUint32(4, true) * 0x100000000;
  }

  /** Hands every committed record to `handle` (offset into `data`, record length) and frees its space.
   * Returns the number of records read. `max` bounds the work done in one call. */
  drain(handle: RecordHandler, max = Number.POSITIVE_INFINITY): number {
    if (this.closed) return 0;
    let cons = Number(this.cons[0]);
    const prod = this.producerPos();
    const data = this.data;
    let n = 0;
    while (cons < prod && n < max) {
      const off = cons & this.mask;
      const len = data.getUint32(off, true);
      if (len & BUSY) break; // reserved but not yet committed
      const size = len & ~(BUSY | DISCARD);
      if (!(len & DISCARD)) {
        handle(data, off + HDR, size);
        n++;
      }
      cons += (size + HDR + 7) & ~7;
    }
    this.cons[0] = BigInt(cons);
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    munmap(this.prodAddr, PAGE + 2 * this.size);
    munmap(this.consAddr, PAGE);
    close(this.fd);
  }
}
