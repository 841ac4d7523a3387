// perf_event_open(2) for the kprobe PMU: an fd-based kprobe that disappears with its fd.
import { readFileSync } from "node:fs";
import { addressOf, keepAlive, perfEventOpen } from "./libc.js";

const PERF_ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = 8;
const PMU_DIR = "/sys/bus/event_source/devices/kprobe";

export interface KprobePmu {
  type: number;
  retprobeBit: number;
}

/** The kprobe PMU's type and the config bit for return probes, or a reason why there is none. */
export function kprobePmu(): KprobePmu | { reason: string } {
  let type: number;
  try {
    type = Number.parseInt(readFileSync(`${PMU_DIR}/type`, "latin1").trim(), 10);
  } catch {
    return { reason: `no kprobe PMU (${PMU_DIR} missing: kernel built without CONFIG_KPROBES?)` };
  }
  let retprobeBit = 0;
  try {
    const m = /config:(\d+)/.exec(readFileSync(`${PMU_DIR}/format/retprobe`, "latin1"));
    if (m) retprobeBit = Number(m[1]);
  } catch {
    // older kernels: bit 0
  }
  return { type, retprobeBit };
}

/** Opens a kprobe on `func` (offset 0). Returns the perf fd or -errno. */
export function openKprobe(pmu: KprobePmu, func: string, retprobe: boolean): number {
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  const name = Buffer.from(`${func}\0`, "latin1");
  attr.writeUInt32LE(pmu.type, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n, 8); // config
  attr.writeBigUInt64LE(1n, 16); // sample_period
  attr.writeBigUInt64LE(addressOf(name), 56); // config1 = kprobe_func
  attr.writeBigUInt64LE(0n, 64); // config2 = probe_offset
  const fd = perfEventOpen(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  keepAlive(name);
  return fd;
}
