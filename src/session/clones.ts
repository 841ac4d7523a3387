// Following clones and copies in a run (program/clone.ts, backends/clones.ts): which clone functions this
// kernel and backend have, the saved-parent hash of the kprobe backends, the programs loaded with the rest
// (before anything attaches) and attached after the rest. Only with tracking on and a function backend.
import { encode } from "../asm/index.js";
import type { AttachUnit } from "../backends/backend.js";
import { CLONE_PARENT_REG, type CloneReturns } from "../backends/clones.js";
import type { AttachPoint } from "../plan/attach-points.js";
import { type ClonePoints, clonePoints } from "../plan/clone-points.js";
import { buildCloneEntryProgram, CLONE_SAVED_KEY_SIZE, CLONE_SAVED_VALUE_SIZE } from "../program/clone.js";
import { createMap, loadProgram } from "../sys/bpf.js";
import { MapType } from "../sys/bpf-abi.js";
import { errnoName } from "../sys/errno.js";
import type { Built } from "./build.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";
import { loadUnit, type ProgramInputs, VerifierError } from "./load.js";

/** Clone calls in flight at once, across tasks (an LRU: a full table forgets the oldest). */
const SAVED_MAX = 4096;

export class CloneFollower {
  private readonly units: AttachUnit[];
  private readonly loaded: { unit: AttachUnit; fd: number }[] = [];
  private entryFd = -1;

  private constructor(
    private readonly backend: { name: string; clones: CloneReturns },
    private readonly where: ClonePoints,
    private readonly kobj: KernelObjects,
    private readonly savedFd: number,
    idOf: (p: AttachPoint) => bigint,
  ) {
    this.units = backend.clones.units(where.points, savedFd, idOf);
  }

  /** The follower of this run, or undefined when its backends cannot follow clones; says why under -v. */
  static plan(
    built: Built,
    kernel: KernelView,
    io: SessionIo,
    kobj: KernelObjects,
  ): CloneFollower | undefined {
    const backend = built.backends.map((b) => b.backend).find((b) => b.clones !== undefined);
    if (!backend?.clones) {
      io.verbose(
        "clones and copies are not followed: the tracepoint backend cannot see a function's return value (the new skb of skb_clone, skb_copy...); a function backend (kprobe, kprobe-multi, ftrace) can",
      );
      return undefined;
    }
    const where = clonePoints(kernel.points, built.plan.functionBackend!, built.plan.rules);
    for (const s of where.skipped) io.verbose(`${s.name} is skipped: ${s.why}; its clones are not followed`);
    if (where.points.length === 0) return undefined;
    const savedFd = !backend.clones.entry
      ? -1
      : kobj.add(
          createMap({
            type: MapType.LRU_HASH,
            keySize: CLONE_SAVED_KEY_SIZE,
            valueSize: CLONE_SAVED_VALUE_SIZE,
            maxEntries: SAVED_MAX,
            name: "ipft_clone_par",
          }),
        );
    const clones = backend.clones;
    return new CloneFollower({ name: backend.name, clones }, where, kobj, savedFd, (p) => built.ids.idOf(p));
  }

  /** For the tracking note: where clones are followed. */
  get note(): string {
    const how = this.backend.clones.how;
    return `at the return of ${this.where.points.map((p) => p.name).join(", ")} (${how})`;
  }

  /** Loads every clone program (a verifier rejection stops the run before anything attaches). */
  load(inputs: ProgramInputs, io: SessionIo): number {
    for (const unit of this.units) {
      const l = loadUnit(unit, inputs);
      if (l.fd < 0) {
        io.verbose(`${unit.points[0]?.name}: clones not followed: ${l.why}`);
        continue;
      }
      this.loaded.push({ unit, fd: this.kobj.add(l.fd) });
    }
    const entry = this.backend.clones.entry;
    if (entry && this.loaded.length > 0) {
      const insns = buildCloneEntryProgram({
        select: inputs.select!,
        probeRead: inputs.probeRead,
        savedFd: this.savedFd,
        parentOffset: CLONE_PARENT_REG,
      });
      const r = loadProgram({ ...entry.load, insns: encode(insns), name: "ipft_clone_entry" });
      if (r.fd < 0) throw new VerifierError("the clone functions' entry", r.errno, r.log);
      this.entryFd = this.kobj.add(r.fd);
    }
    return this.loaded.length + (this.entryFd >= 0 ? 1 : 0);
  }

  /** Its programs (their runs the kernel skipped are counted with the others'). */
  progFds(): number[] {
    return [...this.loaded.map((l) => l.fd), ...(this.entryFd >= 0 ? [this.entryFd] : [])];
  }

  /** Attaches the return programs, then the entry program on the functions whose return attached. */
  attach(io: SessionIo): void {
    const at = new Set<string>();
    for (const l of this.loaded) {
      const r = this.backend.clones.attachReturn(l.fd, l.unit);
      for (const fd of r.links) this.kobj.addLink(fd);
      for (const p of r.attached) at.add(p.name);
      for (const f of r.failed)
        io.verbose(
          `attach ${f.point.name}'s return (${this.backend.name}): ${errnoName(f.errno)}; its clones are not followed`,
        );
    }
    const entry = this.backend.clones.entry;
    if (entry && this.entryFd >= 0 && at.size > 0) {
      const r = entry.attach(
        this.entryFd,
        this.where.points.filter((p) => at.has(p.name)),
      );
      for (const fd of r.links) this.kobj.addLink(fd);
      for (const f of r.failed) {
        at.delete(f.point.name);
        io.verbose(
          `attach ${f.point.name}'s entry (${this.backend.name}): ${errnoName(f.errno)}; its clones are not followed`,
        );
      }
    }
    io.verbose(`clones and copies followed at ${at.size} functions: ${[...at].join(", ") || "none"}`);
  }
}
