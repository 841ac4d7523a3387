// The user's Lua script as the tracer sees it: hooks, with BTF and helper ids from the running kernel.
// init() runs before anything is loaded; fini() runs at the end on every way out (an error in fini is
// reported unless an earlier error is already on its way out).
import { Script } from "../script/index.js";
import type { KernelView } from "./kernel-view.js";

export type ScriptHost = Script;

export function loadScriptHost(path: string, kernel: KernelView): ScriptHost {
  return Script.load(path, { btf: kernel.btf, helpers: kernel.helpers });
}

export function withScript<T>(
  path: string | undefined,
  kernel: KernelView,
  fn: (s: ScriptHost | undefined) => T,
): T {
  if (!path) return fn(undefined);
  const s = loadScriptHost(path, kernel);
  let ok = false;
  try {
    s.init();
    const r = fn(s);
    ok = true;
    return r;
  } finally {
    finish(s, ok);
  }
}

export async function withScriptAsync<T>(
  path: string | undefined,
  kernel: KernelView,
  fn: (s: ScriptHost | undefined) => Promise<T>,
): Promise<T> {
  if (!path) return fn(undefined);
  const s = loadScriptHost(path, kernel);
  let ok = false;
  try {
    s.init();
    const r = await fn(s);
    ok = true;
    return r;
  } finally {
    finish(s, ok);
  }
}

function finish(s: ScriptHost, ok: boolean): void {
  try {
    if (s.hooks.fini) s.fini();
  } catch (e) {
    if (ok) throw e;
  } finally {
    s.close();
  }
}
