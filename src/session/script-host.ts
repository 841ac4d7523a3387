// Where the module and dump() come from: the user's Lua script (hooks, with BTF and helper ids from the
// running kernel), or --capture expressions compiled here. init() runs before anything is loaded; fini()
// runs at the end on every way out (an error in fini is reported unless an earlier one is on its way out).
import { type CompiledCapture, captureDumper, compileCapture, describeLayout } from "../capture/index.js";
import type { Dumper } from "../output/index.js";
import { Script } from "../script/index.js";
import type { ModuleSource } from "./config.js";
import type { KernelView } from "./kernel-view.js";

export interface ScriptHost extends Dumper {
  readonly hooks: { dump: boolean };
  /** The module's bytecode (empty: none). */
  emit(): Uint8Array;
  /** Lines that describe the module (--gen module prints them as comments). */
  describe?(): string[];
}

export function captureFor(texts: string[], kernel: KernelView): CompiledCapture {
  return compileCapture(texts, { btf: kernel.btf, probeRead: kernel.helpers.get("probe_read_kernel") ?? 4 });
}

function captureHost(texts: string[], kernel: KernelView): ScriptHost {
  const cap = captureFor(texts, kernel);
  return {
    ...captureDumper(cap),
    hooks: { dump: true },
    emit: () => cap.bytes,
    describe: () => describeLayout(cap),
  };
}

function loadScript(path: string, kernel: KernelView): Script {
  return Script.load(path, {
    btf: kernel.btf,
    helpers: kernel.helpers,
    capture: (texts) => captureFor(texts, kernel),
  });
}

export function withScript<T>(o: ModuleSource, kernel: KernelView, fn: (s: ScriptHost | undefined) => T): T {
  if (o.capture?.length) return fn(captureHost(o.capture, kernel));
  if (!o.script) return fn(undefined);
  const s = loadScript(o.script, kernel);
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
  o: ModuleSource,
  kernel: KernelView,
  fn: (s: ScriptHost | undefined) => Promise<T>,
): Promise<T> {
  if (o.capture?.length) return fn(captureHost(o.capture, kernel));
  if (!o.script) return fn(undefined);
  const s = loadScript(o.script, kernel);
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

function finish(s: Script, ok: boolean): void {
  try {
    if (s.hooks.fini) s.fini();
  } catch (e) {
    if (ok) throw e;
  } finally {
    s.close();
  }
}
