// Where the time goes, phase by phase: wall-clock and CPU milliseconds between marks, for -v. Cheap
// enough to leave in (one performance.now() and one getrusage per mark). The first phase starts when the
// process did (performance.now() counts from there), so node's own start and module loading show up.
export interface Phase {
  name: string;
  /** Wall-clock milliseconds. */
  ms: number;
  /** user + system CPU milliseconds of this process (on a busy machine, the steadier number). */
  cpuMs: number;
}

export class PhaseTimer {
  readonly phases: Phase[] = [];
  private lastWall: number;
  private lastCpu: number;

  /** `fromProcessStart`: the first phase counts from the process's start (node's start-up included). */
  constructor(fromProcessStart = true) {
    this.lastWall = fromProcessStart ? 0 : performance.now();
    this.lastCpu = fromProcessStart ? 0 : cpuNow();
  }

  /** Ends the phase running since the previous mark (or the start) and names it. */
  mark(name: string): Phase {
    const wall = performance.now();
    const cpu = cpuNow();
    const p = { name, ms: wall - this.lastWall, cpuMs: cpu - this.lastCpu };
    this.phases.push(p);
    this.lastWall = wall;
    this.lastCpu = cpu;
    return p;
  }

  /** Runs `fn` as its own phase (whatever ran since the previous mark becomes phase `before`). */
  time<T>(name: string, fn: () => T, before = "other"): T {
    this.skipTo(before);
    try {
      return fn();
    } finally {
      this.mark(name);
    }
  }

  /** One line: "phases (ms wall/cpu): node 40/38, btf 12/12, ..., total 300/250". */
  summary(): string {
    const r = (x: number) => Math.round(x);
    const parts = this.phases.map((p) => `${p.name} ${r(p.ms)}/${r(p.cpuMs)}`);
    const ms = this.phases.reduce((s, p) => s + p.ms, 0);
    const cpu = this.phases.reduce((s, p) => s + p.cpuMs, 0);
    return `phases (ms wall/cpu): ${parts.join(", ")}, total ${r(ms)}/${r(cpu)}`;
  }

  private skipTo(name: string): void {
    const wall = performance.now();
    // Less than 0.05 ms since the last mark: not worth a phase of its own.
    if (wall - this.lastWall >= 0.05) this.mark(name);
  }
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
