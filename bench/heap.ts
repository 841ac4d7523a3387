// The heap a benchmark holds: used heap plus array buffers, after two full collections when node runs with
// --expose-gc (without it, whatever garbage is still uncollected counts too).
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** Whether node runs with --expose-gc, so that heldBytes() counts live objects only. */
export const exactHeap = typeof (globalThis as { gc?: unknown }).gc === "function";

export function heldBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
