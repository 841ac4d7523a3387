// The running kernel's BTF: vmlinux, and kernel modules' split BTF on top of it, loaded on demand.
// IPFT_BTF names another vmlinux BTF file (for tests, or a kernel whose BTF lives elsewhere).
import { readdirSync } from "node:fs";
import { Btf } from "./btf.js";

const DIR = "/sys/kernel/btf";

export interface KernelBtf {
  vmlinux: Btf;
  modules(): string[];
  module(name: string): Btf;
}

export function loadKernelBtf(opts: { vmlinux?: string; moduleDir?: string } = {}): KernelBtf {
  const path = opts.vmlinux ?? process.env.IPFT_BTF ?? `${DIR}/vmlinux`;
  const dir = opts.moduleDir ?? (opts.vmlinux || process.env.IPFT_BTF ? undefined : DIR);
  const vmlinux = Btf.fromFile(path);
  const cache = new Map<string, Btf>();
  return {
    vmlinux,
    modules: () => {
      if (!dir) return [];
      try {
        return readdirSync(dir)
          .filter((n) => n !== "vmlinux")
          .sort();
      } catch {
        return [];
      }
    },
    module: (name) => {
      const cached = cache.get(name);
      if (cached) return cached;
      const b = Btf.fromFile(`${dir}/${name}`, vmlinux);
      cache.set(name, b);
      return b;
    },
  };
}
