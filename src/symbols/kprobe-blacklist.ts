// Functions the kernel will not kprobe (NOKPROBE_SYMBOL, __kprobes sections, arch rules): debugfs lists them
// in kprobes/blacklist as `0xSTART-0xEND<TAB>name` (a `[module]` may follow). Reading it first spares a
// failed attach per function; when debugfs is not mounted the list is simply unknown.
import { readFileSync } from "node:fs";

export const KPROBE_BLACKLIST = "/sys/kernel/debug/kprobes/blacklist";

export function parseKprobeBlacklist(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^0x[0-9a-f]+-0x[0-9a-f]+\s+(\S+)/i.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** The blacklisted names, or null when the list cannot be read (no debugfs, no kprobes). */
export function readKprobeBlacklist(file = KPROBE_BLACKLIST): Set<string> | null {
  try {
    return parseKprobeBlacklist(readFileSync(file, "latin1"));
  } catch {
    return null;
  }
}
