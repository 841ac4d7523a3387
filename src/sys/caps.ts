// This process's effective capabilities, from /proc/self/status (CapEff, a hex mask; bit n is capability
// n), and the few capability numbers ipft's messages talk about (linux/capability.h).
import { readFileSync } from "node:fs";

export const CAP_NET_ADMIN = 12;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYSLOG = 34;
export const CAP_PERFMON = 38;
export const CAP_BPF = 39;

/** The CapEff mask of a /proc/<pid>/status text, or undefined if it has none. */
export function parseCapEff(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/** This process's effective capabilities, or undefined where /proc cannot tell. */
export function effectiveCaps(): bigint | undefined {
  try {
    return parseCapEff(readFileSync("/proc/self/status", "latin1"));
  } catch {
    return undefined;
  }
}

export function hasCap(mask: bigint, cap: number): boolean {
  return ((mask >> BigInt(cap)) & 1n) === 1n;
}

/** An integer sysctl from /proc/sys (e.g. "kernel/kptr_restrict"), or undefined if unreadable. */
export function readSysctl(name: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(`/proc/sys/${name}`, "latin1").trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}
