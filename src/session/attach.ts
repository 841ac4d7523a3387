// Attaches every loaded program, with upstream's progress line and a -v summary per backend. Signals get a
// chance to stop a long attach between batches.
import { UserError } from "../core/errors.js";
import { errnoName } from "../sys/errno.js";
import type { Built } from "./build.js";
import type { SessionIo } from "./io.js";
import type { KernelObjects } from "./kernel-objects.js";
import type { LoadedAll } from "./load.js";
import { ProgressLine } from "./progress-line.js";
import type { StopSignal } from "./stop-signal.js";

export async function attachAll(
  built: Built,
  loaded: LoadedAll,
  withReturns: boolean,
  kobj: KernelObjects,
  io: SessionIo,
  stop: StopSignal,
  loadMs: number,
): Promise<string[]> {
  const { plan } = built;
  const total = plan.functions.length * (withReturns ? 2 : 1) + plan.tracepoints.length - loaded.refused;
  let ok = 0;
  let failed = 0;
  /** `name: ERRNO` of each point that failed, for the end's "Not seen" line. */
  const failures: string[] = [];
  const progress = new ProgressLine(io);
  const draw = (force = false) =>
    progress.update(
      `Attaching program (total ${total}, succeeded ${ok}, failed ${failed}, filtered: ${plan.filtered}, untraceable: ${plan.untraceable + loaded.refused})`,
      force,
    );
  draw(true);
  const start = performance.now();
  let sinceYield = 0;
  const okBy = new Map<string, number>(built.backends.map((b) => [b.backend.name, 0]));
  for (const l of loaded.loaded) {
    const res = l.backend.attach(l.fd, l.unit, (good) => {
      if (good) {
        ok++;
        okBy.set(l.backend.name, okBy.get(l.backend.name)! + 1);
      } else failed++;
      draw();
    });
    for (const fd of res.links) kobj.addLink(fd);
    for (const f of res.failed) {
      io.verbose(`attach ${f.point.name} (${l.backend.name}): ${errnoName(f.errno)}`);
      failures.push(`${f.point.name}: ${errnoName(f.errno)}`);
    }
    // Let signals in during long attaches.
    sinceYield += l.unit.points.length;
    if (sinceYield >= 64) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
      if (stop.stopped) break;
    }
  }
  draw(true);
  progress.done();
  const byBackend = [...okBy].map(([name, n]) => `${name}: ${n}`);
  io.verbose(
    `attached ${ok} of ${total} in ${Math.round(performance.now() - start)} ms (${byBackend.join(", ")}; loading took ${Math.round(loadMs)} ms)`,
  );
  if (!stop.stopped && ok === 0)
    throw new UserError(`no attach point could be attached (${failed} failed; run with -v to see why)`);
  return failures;
}
