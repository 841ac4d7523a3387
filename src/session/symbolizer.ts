// Turns a record's function field into a name and module, caching per address (the same few hundred
// addresses repeat millions of times).
import type { Symbolizer as OutputSymbolizer, SymbolName } from "../output/index.js";
import type { SymbolTable } from "../symbols/index.js";
import type { AttachIds } from "./attach-ids.js";

export class Symbolizer implements OutputSymbolizer {
  private readonly cache = new Map<bigint, SymbolName | undefined>();

  constructor(
    private readonly kallsyms: SymbolTable | undefined,
    private readonly ids: AttachIds,
  ) {}

  resolve(addr: bigint): SymbolName | undefined {
    if (this.cache.has(addr)) return this.cache.get(addr);
    let s: SymbolName | undefined = this.ids.lookup(addr);
    if (!s && this.kallsyms) {
      const k = this.kallsyms.resolve(addr);
      if (k) s = { name: k.name, module: k.module };
    }
    this.cache.set(addr, s);
    return s;
  }
}
