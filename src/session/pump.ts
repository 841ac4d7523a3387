// Reads the ring buffer into the writer until told to stop: batches while records keep coming, a short
// sleep when the ring is empty, one last drain after the links are gone.
import { numbered, type PacketTracker, type Writer } from "../output/index.js";
import type { RingReader } from "../ringbuf/reader.js";
import type { StopSignal } from "./stop-signal.js";

const BATCH = 1 << 16;
const IDLE_MS = 2;

/** `drained` runs after each drain that read records (the pcapng file is flushed there). `ids` numbers
 * the events' packets (drainRest goes on with the same). */
export function pumpUntilStopped(
  ring: RingReader,
  writer: Writer,
  ids: PacketTracker,
  stop: StopSignal,
  drained?: () => void,
): Promise<void> {
  const handle = numbered(writer, ids);
  return new Promise<void>((resolve) => {
    const tick = () => {
      if (stop.stopped) return resolve();
      const n = ring.drain(handle, BATCH);
      if (n > 0) drained?.();
      if (n > 0) setImmediate(tick);
      else setTimeout(tick, IDLE_MS);
    };
    stop.onStop(() => setImmediate(tick));
    tick();
  });
}

/** What is left in the ring (call after detaching). */
export function drainRest(ring: RingReader, writer: Writer, ids: PacketTracker): void {
  ring.drain(numbered(writer, ids));
}
