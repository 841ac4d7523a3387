// The running kernel's BTF for capture tests (skipped, with the reason, where there is none).
import { existsSync } from "node:fs";
import { type Btf, loadKernelBtf } from "../../src/btf/index.js";
import { compileCapture } from "../../src/capture/index.js";
import type { ScriptEnv } from "../../src/script/index.js";

const PATH = "/sys/kernel/btf/vmlinux";
export const noBtf: string | false = existsSync(PATH) ? false : `no kernel BTF at ${PATH}`;

let btf: Btf | undefined;
export function env(): { btf: Btf; probeRead: number } {
  btf ??= loadKernelBtf({ vmlinux: PATH }).vmlinux;
  return { btf, probeRead: 113 };
}

/** A Lua script environment whose ipft.capture compiles against the kernel's BTF. */
export function scriptEnv(): ScriptEnv {
  return {
    btf: { offsetof: () => 0, sizeof: () => 0, typeof: () => "" },
    helpers: new Map([["probe_read_kernel", 113]]),
    capture: (texts) => compileCapture(texts, env()),
  };
}
