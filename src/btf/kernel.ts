// The running kernel's BTF: vmlinux, and kernel modules' split BTF on top of it, loaded on demand.
// IPFT_BTF names another vmlinux BTF file (for tests, or a kernel whose BTF lives elsewhere); then no
// module BTF is read unless moduleDir says where.
import { existsSync, readdirSync } from "node:fs";
import { Btf } from "./btf.js";
import { BtfError } from "./kinds.js";

const DIR = "/sys/kernel/btf";

export interface KernelBtf {
  vmlinux: Btf;
  /** Names of the modules that have BTF, sorted. */
  modules(): string[];
  /** A module's split BTF (cached). */
  module(name: string): Btf;
}

export function loadKernelBtf(opts: { vmlinux?: string; moduleDir?: string } = {}): KernelBtf {
  const override = opts.vmlinux ?? (process.env.IPFT_BTF || undefined);
  const path = override ?? `${DIR}/vmlinux`;
  const dir = opts.moduleDir ?? (override ? undefined : DIR);
  const vmlinux = Btf.fromFile(path);
  const cache = new Map<string, Btf>();
  let names: string[] | undefined;
  return {
    vmlinux,
    modules: () => {
      if (names) return names;
      try {
        names = dir ? readdirSync(dir).filter((n) => n !== "vmlinux" && !n.startsWith(".")) : [];
      } catch {
        names = [];
      }
      return names.sort();
    },
    module: (name) => {
      const cached = cache.get(name);
      if (cached) return cached;
      const file = dir ? `${dir}/${name}` : undefined;
      if (!file || name.includes("/") || !existsSync(file)) {
        throw new BtfError(
          `kernel module "${name}" has no BTF${dir ? ` in ${dir}` : ""} (not loaded, or built without BTF)`,
        );
      }
      const b = Btf.fromFile(file, vmlinux);
      cache.set(name, b);
      return b;
    },
  };
}
