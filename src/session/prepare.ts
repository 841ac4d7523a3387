// Every command's set-up of a session, up to loading: the plan and backends (build.ts), and the kernel
// objects the programs refer to: the ring buffer, the lost counter, the tracking table and the clone
// follower. What differs by what the command does with the programs:
//   trace   all of them, the ring at the size asked for;
//   verify  (--test) the same, with the smallest ring: the programs are loaded, never run;
//   print   (--gen program) none: the programs refer to map fd 0, nothing is created.
import { LostCounter } from "../ringbuf/lost-counter.js";
import { RingReader } from "../ringbuf/reader.js";
import { type Built, build, programInputs } from "./build.js";
import { CloneFollower } from "./clones.js";
import type { SessionConfig } from "./config.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import type { KernelView } from "./kernel-view.js";
import type { ProgramInputs } from "./load.js";
import type { ScriptHost } from "./script-host.js";
import { TrackTable } from "./track-table.js";

export type SessionMode = "trace" | "verify" | "print";

export interface Prepared {
  built: Built;
  inputs: ProgramInputs;
  /** Absent when printing. */
  ring?: RingReader;
  lost?: LostCounter;
  /** With tracking, when not printing. */
  track?: TrackTable;
  /** With tracking and a backend that follows clones, when not printing. */
  clones?: CloneFollower;
}

/** The smallest ring (one page): --test loads programs that never write to it. */
const VERIFY_RING_SIZE = 4096;

/** Kernel objects made here are owned by `kobj`. */
export function prepareSession(
  config: SessionConfig,
  kernel: KernelView,
  script: ScriptHost | undefined,
  io: SessionIo,
  kobj: KernelObjects,
  mode: SessionMode,
): Prepared {
  const built = build(config, kernel, script, io, kobj, mode !== "trace");
  if (mode === "print") {
    const track = config.track ? { mapFd: 0, countFd: 0, lastSeenFd: 0 } : undefined;
    return { built, inputs: programInputs(config, kernel, built, 0, 0, track) };
  }
  const ring = kobj.own(new RingReader(mode === "trace" ? config.ringSize : VERIFY_RING_SIZE));
  const lost = kobj.own(new LostCounter());
  const track = config.track ? kobj.own(new TrackTable(config.trackMax)) : undefined;
  const clones = track ? CloneFollower.plan(built, kernel, io, kobj) : undefined;
  const inputs = programInputs(config, kernel, built, ring.fd, lost.fd, track?.spec);
  return {
    built,
    inputs,
    ring,
    lost,
    ...(track ? { track } : {}),
    ...(clones ? { clones } : {}),
  };
}
