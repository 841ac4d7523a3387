// tracefs: where the kernel lists the functions ftrace (and so kprobes and fentry) can attach to.
// Mounted on demand; its list is optional: some kernels refuse to show it, and then ipft says so.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const CANDIDATES = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

function hasTracingFiles(dir: string): boolean {
  return existsSync(`${dir}/available_filter_functions`) || existsSync(`${dir}/events`);
}

/** Where tracefs is mounted, per /proc/mounts (it may be somewhere unusual). */
function tracefsMounts(): string[] {
  try {
    return readFileSync("/proc/mounts", "latin1")
      .split("\n")
      .map((l) => l.split(" "))
      .filter((f) => f[2] === "tracefs" && f[1])
      .map((f) => f[1]!.replace(/\\040/g, " "));
  } catch {
    return [];
  }
}

/** The tracefs directory, mounting it on /sys/kernel/tracing when nothing shows it. */
export function findTracefs(): { path: string } | { reason: string } {
  for (const d of [...CANDIDATES, ...tracefsMounts()]) if (hasTracingFiles(d)) return { path: d };
  try {
    execFileSync("mount", ["-t", "tracefs", "nodev", CANDIDATES[0]!], { stdio: "ignore" });
  } catch {
    return {
      reason: `tracefs is not mounted and mounting it on ${CANDIDATES[0]} failed (run as root, or mount it yourself)`,
    };
  }
  return hasTracingFiles(CANDIDATES[0]!)
    ? { path: CANDIDATES[0]! }
    : { reason: `tracefs mounted on ${CANDIDATES[0]} but shows no tracing files` };
}

/** Lines "name", "name [module]" or, in available_filter_functions_addrs, "addr name [module]": the names. */
export function parseFilterFunctions(text: string): Set<string> {
  const names = new Set<string>();
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let a = start;
    let b = tokenEnd(text, a, end);
    if (b > a && b < end && b - a >= 8 && isHex(text, a, b)) {
      a = b + 1;
      b = tokenEnd(text, a, end);
    }
    if (b > a) names.add(text.slice(a, b));
    start = end + 1;
  }
  return names;
}

function tokenEnd(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
  return i;
}

function isHex(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

export function availableFilterFunctions(): { names: Set<string> } | { names: null; reason: string } {
  const t = findTracefs();
  if ("reason" in t) return { names: null, reason: t.reason };
  return readFilterFunctions(`${t.path}/available_filter_functions`);
}

/** The names in one available_filter_functions file, or why it cannot be read. */
export function readFilterFunctions(file: string): { names: Set<string> } | { names: null; reason: string } {
  try {
    return { names: parseFilterFunctions(readFileSync(file, "latin1")) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const why =
      code === "EPERM" || code === "EACCES"
        ? "the kernel refuses to list traceable functions"
        : code === "ENOENT"
          ? "this kernel has no function tracer (CONFIG_FUNCTION_TRACER)"
          : (e as Error).message;
    return { names: null, reason: `cannot read ${file} (${code}: ${why})` };
  }
}
