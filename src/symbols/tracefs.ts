// tracefs: where the kernel lists the functions ftrace (and so kprobes and fentry) can attach to.
// Mounted on demand; its list is optional: some kernels refuse to show it, and then ipft says so.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

function mounted(dir: string): boolean {
  return existsSync(`${dir}/available_filter_functions`) || existsSync(`${dir}/events`);
}

export function findTracefs(): { path: string } | { reason: string } {
  for (const d of CANDIDATES) if (mounted(d)) return { path: d };
  try {
    execFileSync("mount", ["-t", "tracefs", "nodev", CANDIDATES[0]!], { stdio: "ignore" });
  } catch {
    return { reason: `tracefs is not mounted and mounting it on ${CANDIDATES[0]} failed` };
  }
  return mounted(CANDIDATES[0]!)
    ? { path: CANDIDATES[0]! }
    : { reason: "tracefs mounted but shows no tracing files" };
}

/** Lines "name", "name [module]" or, on newer kernels, "addr name [module]": the names. */
export function parseFilterFunctions(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const parts = line.split(/\s+/);
    const name = /^[0-9a-f]{8,}$/.test(parts[0]!) && parts.length > 1 ? parts[1]! : parts[0]!;
    names.add(name);
  }
  return names;
}

export function availableFilterFunctions(): { names: Set<string> } | { names: null; reason: string } {
  const t = findTracefs();
  if ("reason" in t) return { names: null, reason: t.reason };
  const file = `${t.path}/available_filter_functions`;
  try {
    return { names: parseFilterFunctions(readFileSync(file, "latin1")) };
  } catch (e) {
    return { names: null, reason: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})` };
  }
}
