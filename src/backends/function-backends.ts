// The function backends by name: how the session makes the one its plan chose.
import type { FunctionBackendName } from "../core/names.js";
import type { KernelFeatures } from "../features/probe.js";
import type { Backend } from "./backend.js";
import { FtraceBackend } from "./ftrace.js";
import { KprobeBackend } from "./kprobe.js";
import { KprobeMultiBackend } from "./kprobe-multi.js";

export interface FunctionBackendEnv {
  features: KernelFeatures;
  /** The fd of a module's BTF object (undefined: the kernel lists none for it); opened when first asked. */
  moduleBtfFd: (module: string) => number | undefined;
}

const MAKE: Record<FunctionBackendName, (env: FunctionBackendEnv) => Backend> = {
  kprobe: (e) => new KprobeBackend(e.features.kprobePmu, e.features.kprobeFuncIp),
  "kprobe-multi": () => new KprobeMultiBackend(),
  ftrace: (e) => new FtraceBackend(e.moduleBtfFd),
};

export const functionBackend = (name: FunctionBackendName, env: FunctionBackendEnv): Backend =>
  MAKE[name](env);
