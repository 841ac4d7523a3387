// A per-CPU array with one u64 slot: the eBPF program adds 1 when the ring buffer had no room for a trace.
import { readFileSync } from "node:fs";
import { createMap, lookupElem } from "../sys/bpf.js";
import { MapType } from "../sys/bpf-abi.js";
import { close } from "../sys/libc.js";

/** Number of possible CPUs: per-CPU map values have one slot for each. */
export function possibleCpus(): number {
  const text = readFileSync("/sys/devices/system/cpu/possible", "latin1").trim();
  let n = 0;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map((x) => Number.parseInt(x, 10));
    n += b === undefined ? 1 : b! - a! + 1;
  }
  return n;
}

export class LostCounter {
  readonly fd: number;
  private readonly key = new Uint8Array(4);
  private readonly value: BigUint64Array;

  constructor() {
    this.fd = createMap({
      type: MapType.PERCPU_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      name: "ipft_lost",
    });
    this.value = new BigUint64Array(possibleCpus());
  }

  read(): number {
    if (!lookupElem(this.fd, this.key, new Uint8Array(this.value.buffer))) return 0;
    let sum = 0n;
    for (const v of this.value) sum += v;
    return Number(sum);
  }

  close(): void {
    close(this.fd);
  }
}
