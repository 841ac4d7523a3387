// The machine a trace file was written on: its host name and boot id. The boot id
// (/proc/sys/kernel/random/boot_id) changes at every boot, so two files of one boot share the monotonic
// clock their records' timestamps count (--read of several files: multi-host.md).
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface Machine {
  host: string;
  /** Empty when /proc does not say. */
  bootId: string;
}

export function thisMachine(): Machine {
  let bootId = "";
  try {
    bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    // no /proc: the file says nothing of the boot
  }
  return { host: hostname(), bootId };
}
