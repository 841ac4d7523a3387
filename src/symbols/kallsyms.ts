// /proc/kallsyms: kernel text addresses -> function name and module. Parsed once into sorted arrays;
// lookups are binary searches for the nearest symbol at or below an address.
import { readFileSync } from "node:fs";

export class KallsymsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KallsymsError";
  }
}

export interface KernelSymbol {
  name: string;
  module: string;
  offset: number;
}

export class Kallsyms {
  private readonly addrs: BigUint64Array;
  private readonly names: string[];
  private readonly modules: string[];
  private byName: Map<string, bigint> | undefined;

  static load(path = "/proc/kallsyms"): Kallsyms {
    let text: string;
    try {
      text = readFileSync(path, "latin1");
    } catch (e) {
      throw new KallsymsError(
        `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (ipft needs it to name functions)`,
      );
    }
    return Kallsyms.parse(text, path);
  }

  static parse(text: string, what = "kallsyms"): Kallsyms {
    const rows: [bigint, string, string][] = [];
    let nonZero = false;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      // "ffffffff81000000 T _stext" or "ffffffffc0000000 t fn\t[mod]"
      const line = text.slice(start, end);
      const s1 = line.indexOf(" ");
      if (s1 > 0 && (line.charCodeAt(s1 + 1) | 0x20) === 0x74 /* t or T */) {
        const tab = line.indexOf("\t", s1 + 3);
        const addr = BigInt(`0x${line.slice(0, s1)}`);
        if (addr !== 0n) nonZero = true;
        const name = line.slice(s1 + 3, tab < 0 ? line.length : tab);
        const mod = tab < 0 ? "vmlinux" : line.slice(tab + 2, line.length - 1);
        rows.push([addr, name, mod]);
      }
      start = end + 1;
    }
    if (rows.length === 0) throw new KallsymsError(`${what} lists no kernel functions`);
    if (!nonZero) {
      throw new KallsymsError(
        `${what} shows every address as 0 (kptr_restrict): run ipft as root, or set kernel.kptr_restrict=0`,
      );
    }
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Kallsyms(rows);
  }

  private constructor(rows: [bigint, string, string][]) {
    this.addrs = new BigUint64Array(rows.length);
    this.names = new Array<string>(rows.length);
    this.modules = new Array<string>(rows.length);
    rows.forEach(([a, n, m], i) => {
      this.addrs[i] = a;
      this.names[i] = n;
      this.modules[i] = m;
    });
  }

  get size(): number {
    return this.names.length;
  }

  /** The function containing `addr`: the nearest symbol at or below it. */
  resolve(addr: bigint): KernelSymbol | undefined {
    const a = this.addrs;
    let lo = 0;
    let hi = a.length - 1;
    if (hi < 0 || addr < a[0]!) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a[mid]! <= addr) lo = mid;
      else hi = mid - 1;
    }
    const offset = Number(addr - a[lo]!);
    // Past the end of the last function by more than a large function's size: not ours to name.
    if (lo === a.length - 1 && offset > 1 << 20) return undefined;
    return { name: this.names[lo]!, module: this.modules[lo]!, offset };
  }

  address(name: string): bigint | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (let i = 0; i < this.names.length; i++)
        if (!this.byName.has(this.names[i]!)) this.byName.set(this.names[i]!, this.addrs[i]!);
    }
    return this.byName.get(name);
  }
}
