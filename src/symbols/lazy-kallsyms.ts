// /proc/kallsyms costs ~90 ms to read and parse (the kernel alone takes ~50 ms to print it), and a trace on
// tracepoints needs it only to name the code that freed a packet, after tracing has started. So it is
// read on first use (or before tracing starts, when the output names events as they arrive); at start, only its first lines are read to check that addresses are visible, so a
// missing capability still fails before anything is loaded.
import { closeSync, openSync, readSync } from "node:fs";
import {
  type CodeRange,
  hiddenAddressesReason,
  Kallsyms,
  KallsymsError,
  type KernelSymbol,
  kallsymsAccess,
} from "./kallsyms.js";

/** What ipft asks of the kernel's symbols. */
export interface SymbolTable {
  resolve(addr: bigint): KernelSymbol | undefined;
  repeatedNames(): Set<string>;
  /** See Kallsyms.range. */
  range(name: string): CodeRange | undefined;
}

const PROBE_BYTES = 64 << 10;

/** Reads the first text symbols of `path` and throws the same error a full load would when addresses are
 * hidden (all zero) or the file cannot be read. */
export function checkKallsymsReadable(path = "/proc/kallsyms"): void {
  let text: string;
  try {
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(PROBE_BYTES);
      const n = readSync(fd, buf, 0, PROBE_BYTES, null);
      text = buf.toString("latin1", 0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new KallsymsError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (ipft needs it to name functions)`,
    );
  }
  const m = /^([0-9a-f]+) [tT] /m.exec(text);
  if (m && /^0+$/.test(m[1]!))
    throw new KallsymsError(`${path} shows every address as 0: ${hiddenAddressesReason(kallsymsAccess())}`);
}

export class LazyKallsyms implements SymbolTable {
  private loaded: Kallsyms | undefined;

  constructor(private readonly path?: string) {
    checkKallsymsReadable(path);
  }

  /** Reads it now (before tracing, when events are named as they arrive). */
  load(): void {
    this.loaded ??= Kallsyms.load(this.path);
  }

  get table(): Kallsyms {
    this.loaded ??= Kallsyms.load(this.path);
    return this.loaded;
  }

  resolve(addr: bigint): KernelSymbol | undefined {
    return this.table.resolve(addr);
  }

  repeatedNames(): Set<string> {
    return this.table.repeatedNames();
  }

  range(name: string): CodeRange | undefined {
    return this.table.range(name);
  }
}
