// /proc/kallsyms: kernel text addresses -> function name and module. The file (120k-200k lines) is read
// as one string and scanned once. Only code symbols are kept: t/T, and w/W (weak functions nobody
// overrode, such as `abort`, which would otherwise be named after the symbol before them). Addresses are
// split into two Uint32Arrays (hi, lo: cheaper than 200k BigInts), sorted, and searched by bisection.
import { readFileSync } from "node:fs";
import { UserError } from "../core/errors.js";
import { CAP_SYSLOG, effectiveCaps, hasCap, readSysctl } from "../sys/caps.js";

export class KallsymsError extends UserError {}

/** Code addresses [lo, hi): a function's, from its address to the next symbol's. */
export interface CodeRange {
  lo: bigint;
  hi: bigint;
}

export interface KernelSymbol {
  name: string;
  /** "vmlinux", or the module named in brackets. */
  module: string;
  /** Bytes from the symbol's start. */
  offset: number;
}

/** Past a symbol's start by more than this, an address is not that function's (no function is this big):
 * it falls in a gap (between vmlinux and modules, or past the last one) and gets no name. */
const MAX_OFFSET = 1 << 20;

/** What decides whether /proc/kallsyms shows real addresses to this process. */
export interface KallsymsAccess {
  kptrRestrict?: number;
  perfEventParanoid?: number;
  /** Effective capabilities (CapEff). */
  caps?: bigint;
}

export function kallsymsAccess(): KallsymsAccess {
  return {
    kptrRestrict: readSysctl("kernel/kptr_restrict"),
    perfEventParanoid: readSysctl("kernel/perf_event_paranoid"),
    caps: effectiveCaps(),
  };
}

/**
 * Why kallsyms shows only zero addresses, and what to do. The kernel (kallsyms_show_value) shows them when
 * kptr_restrict is 0 and perf_event_paranoid <= 1, or when kptr_restrict is 0 or 1 and the reader has
 * CAP_SYSLOG in the initial user namespace; kptr_restrict 2 hides them from everyone.
 */
export function hiddenAddressesReason(a: KallsymsAccess): string {
  const k = a.kptrRestrict;
  if (k !== undefined && k >= 2)
    return `kernel.kptr_restrict is ${k}, which hides them even from root; set it to 1 (sysctl -w kernel.kptr_restrict=1) so that a process with CAP_SYSLOG sees them`;
  const give =
    "run ipft with CAP_SYSLOG as well as CAP_BPF and CAP_PERFMON (root has all three unless they were dropped)";
  if (k === undefined || a.caps === undefined)
    return `ipft needs CAP_SYSLOG to see them (and kernel.kptr_restrict below 2); ${give}`;
  if (!hasCap(a.caps, CAP_SYSLOG)) {
    const p = a.perfEventParanoid;
    const why =
      k === 1
        ? "kernel.kptr_restrict is 1, which shows them only to a process with CAP_SYSLOG"
        : p !== undefined && p <= 1
          ? `kernel.kptr_restrict is 0 and kernel.perf_event_paranoid ${p} should show them, unless the kernel lacks CONFIG_PERF_EVENTS`
          : `kernel.kptr_restrict is 0, but kernel.perf_event_paranoid is ${p ?? "above 1"}, so only a process with CAP_SYSLOG sees them`;
    return `ipft lacks CAP_SYSLOG (${why}); ${give}`;
  }
  return `kernel.kptr_restrict is ${k} and ipft has CAP_SYSLOG, but the kernel wants it in the initial user namespace (in a container, run ipft on the host) and a security module may refuse it`;
}

export class Kallsyms {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** Names stay in the file's text, as start and length: decoded only when asked for. */
  private readonly text: string;
  private readonly nameAt: Uint32Array;
  private readonly nameLen: Uint16Array;
  private readonly mods: Uint16Array;
  private readonly modNames: string[];
  private byName: Map<string, number> | undefined;
  private lookups = 0;

  /** Reads /proc/kallsyms (or `path`); KallsymsError when unreadable or every address is 0. */
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

  /** Parses kallsyms text: "ffffffff81000000 T _stext" and "ffffffffc0000000 t fn\t[mod]" lines.
   * `zeroReason` says why, when every address is 0 (by default from this system's settings). */
  static parse(
    text: string,
    what = "kallsyms",
    zeroReason: () => string = () => hiddenAddressesReason(kallsymsAccess()),
  ): Kallsyms {
    let cap = 1024;
    let hi = new Uint32Array(cap);
    let lo = new Uint32Array(cap);
    let mods = new Uint16Array(cap);
    let nameAt = new Uint32Array(cap);
    let nameLen = new Uint16Array(cap);
    const modNames = ["vmlinux"];
    const modIds = new Map<string, number>([["vmlinux", 0]]);
    let n = 0;
    let nonZero = false;
    let sorted = true;
    let prevHi = 0;
    let prevLo = 0;
    const len = text.length;
    for (let start = 0; start < len; ) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = len;
      const sp = text.indexOf(" ", start);
      // Type letter t/T or w/W (lower case: local symbol); data, bss, absolute, ... are skipped.
      const type = text.charCodeAt(sp + 1) | 0x20;
      if (sp > start && sp + 3 <= end && (type === 0x74 || type === 0x77)) {
        // Hex digits by hand: slicing and parseInt would make two garbage strings per line.
        let h = 0;
        let l = 0;
        for (let i = start; i < sp; i++) {
          const d = hexDigit(text.charCodeAt(i));
          if (d < 0) throw new KallsymsError(`${what}: bad address in "${text.slice(start, end)}"`);
          h = ((h << 4) | (l >>> 28)) >>> 0;
          l = ((l << 4) | d) >>> 0;
        }
        // The module, if any, follows a tab; look only within this line (indexOf could run far ahead).
        let tab = sp + 3;
        while (tab < end && text.charCodeAt(tab) !== 9) tab++;
        let mod = 0;
        if (tab < end) {
          const m = text.slice(tab + 2, text.charCodeAt(end - 1) === 0x5d ? end - 1 : end);
          let id = modIds.get(m);
          if (id === undefined) {
            id = modNames.length;
            modNames.push(m);
            modIds.set(m, id);
          }
          mod = id;
        }
        if (n === cap) {
          cap *= 2;
          hi = grow(hi, cap);
          lo = grow(lo, cap);
          mods = grow(mods, cap);
          nameAt = grow(nameAt, cap);
          nameLen = grow(nameLen, cap);
        }
        hi[n] = h;
        lo[n] = l;
        mods[n] = mod;
        nameAt[n] = sp + 3;
        nameLen[n] = tab - sp - 3;
        if (h !== 0 || l !== 0) nonZero = true;
        if (h < prevHi || (h === prevHi && l < prevLo)) sorted = false;
        prevHi = h;
        prevLo = l;
        n++;
      }
      start = end + 1;
    }
    if (n === 0) throw new KallsymsError(`${what} lists no kernel functions`);
    if (!nonZero) throw new KallsymsError(`${what} shows every address as 0: ${zeroReason()}`);
    hi = hi.slice(0, n);
    lo = lo.slice(0, n);
    mods = mods.slice(0, n);
    nameAt = nameAt.slice(0, n);
    nameLen = nameLen.slice(0, n);
    if (!sorted) {
      // Module symbols follow vmlinux's, at addresses of their own: sort a permutation, stable on ties.
      const order = Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || a - b);
      const h2 = new Uint32Array(n);
      const l2 = new Uint32Array(n);
      const m2 = new Uint16Array(n);
      const a2 = new Uint32Array(n);
      const z2 = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const j = order[i]!;
        h2[i] = hi[j]!;
        l2[i] = lo[j]!;
        m2[i] = mods[j]!;
        a2[i] = nameAt[j]!;
        z2[i] = nameLen[j]!;
      }
      return new Kallsyms(text, h2, l2, a2, z2, m2, modNames);
    }
    return new Kallsyms(text, hi, lo, nameAt, nameLen, mods, modNames);
  }

  private constructor(
    text: string,
    hi: Uint32Array,
    lo: Uint32Array,
    nameAt: Uint32Array,
    nameLen: Uint16Array,
    mods: Uint16Array,
    modNames: string[],
  ) {
    this.text = text;
    this.hi = hi;
    this.lo = lo;
    this.nameAt = nameAt;
    this.nameLen = nameLen;
    this.mods = mods;
    this.modNames = modNames;
  }

  /** Number of text symbols. */
  get size(): number {
    return this.hi.length;
  }

  /** The function containing `addr`: the nearest text symbol at or below it. */
  resolve(addr: bigint): KernelSymbol | undefined {
    if (addr < 0n || addr > 0xffffffffffffffffn) return undefined;
    const h = Number(addr >> 32n);
    const l = Number(addr & 0xffffffffn);
    // The last symbol at or below addr (for aliases at one address, the last listed).
    const i = this.firstAbove(h, l) - 1;
    if (i < 0) return undefined;
    const offset = (h - this.hi[i]!) * 0x100000000 + (l - this.lo[i]!);
    if (offset > MAX_OFFSET) return undefined;
    return { name: this.nameOf(i), module: this.modNames[this.mods[i]!]!, offset };
  }

  /** Address of a text symbol (the lowest, when a local name repeats). */
  address(name: string): bigint | undefined {
    let i: number | undefined;
    // One or two questions are answered by a scan; more build the map (50 ms for 200k names).
    if (!this.byName && ++this.lookups <= 2) {
      for (let k = 0; k < this.hi.length && i === undefined; k++) {
        if (this.nameLen[k] === name.length && this.text.startsWith(name, this.nameAt[k]!)) i = k;
      }
    } else {
      if (!this.byName) {
        const m = new Map<string, number>();
        for (let k = this.hi.length - 1; k >= 0; k--) m.set(this.nameOf(k), k);
        this.byName = m;
      }
      i = this.byName.get(name);
    }
    if (i === undefined) return undefined;
    return (BigInt(this.hi[i]!) << 32n) | BigInt(this.lo[i]!);
  }

  /** Where a text symbol's code lies: [its address, the next symbol's), the lowest when a local name
   * repeats; undefined when it is not listed (inlined everywhere) or is the last. */
  range(name: string): CodeRange | undefined {
    const lo = this.address(name);
    if (lo === undefined) return undefined;
    // The first symbol above it (aliases share its address).
    const a = this.firstAbove(Number(lo >> 32n), Number(lo & 0xffffffffn));
    if (a >= this.hi.length) return undefined;
    return { lo, hi: (BigInt(this.hi[a]!) << 32n) | BigInt(this.lo[a]!) };
  }

  /** The index of the first symbol whose address is above hi:lo (the symbols are sorted by address). */
  private firstAbove(h: number, l: number): number {
    const H = this.hi;
    const L = this.lo;
    let a = 0;
    let b = H.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (H[mid]! < h || (H[mid] === h && L[mid]! <= l)) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Names more than one text symbol has (static functions of the same name in different files or
   * modules): the kernel refuses to kprobe those by name (EADDRNOTAVAIL). */
  repeatedNames(): Set<string> {
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (let k = 0; k < this.hi.length; k++) {
      const n = this.nameOf(k);
      if (seen.has(n)) repeated.add(n);
      else seen.add(n);
    }
    return repeated;
  }

  private nameOf(i: number): string {
    const at = this.nameAt[i]!;
    return this.text.slice(at, at + this.nameLen[i]!);
  }

  /** Module of a text symbol ("vmlinux" or the module's name). */
  moduleOf(name: string): string | undefined {
    const a = this.address(name);
    return a === undefined ? undefined : this.resolve(a)?.module;
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const x = c | 0x20;
  return x >= 97 && x <= 102 ? x - 87 : -1;
}

function grow<T extends Uint32Array | Uint16Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
