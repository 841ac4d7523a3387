// Names for --stack's frames from kallsyms: `function+0xoffset`, with ` [module]` for a module's code as
// the kernel writes it in its own stack traces; hex for an address kallsyms does not know.
import type { StackNamer } from "../output/index.js";
import type { SymbolTable } from "../symbols/index.js";

export class StackNames implements StackNamer {
  constructor(private readonly kallsyms: SymbolTable | undefined) {}

  frame(addr: bigint): string {
    const s = this.kallsyms?.resolve(addr);
    if (!s) return `0x${addr.toString(16)}`;
    const mod = s.module && s.module !== "vmlinux" ? ` [${s.module}]` : "";
    return `${s.name}+0x${s.offset.toString(16)}${mod}`;
  }
}
