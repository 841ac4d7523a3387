// kprobe-multi (fprobe): one BPF_LINK_CREATE attaches a program to many functions. When the kernel refuses
// a batch, the batch is halved until the functions it refuses are found, so one bad name costs only itself.
import { linkCreateKprobeMulti } from "../sys/bpf.js";

export interface MultiResult {
  links: number[];
  /** Indices into `funcs` that attached, and those that failed with their errno. */
  attached: number[];
  failed: { index: number; errno: number }[];
}

export function attachKprobeMulti(
  progFd: number,
  funcs: string[],
  retprobe: boolean,
  progress: (ok: boolean) => void = () => {},
): MultiResult {
  const res: MultiResult = { links: [], attached: [], failed: [] };
  const tryBatch = (from: number, to: number): void => {
    const fd = linkCreateKprobeMulti(progFd, funcs.slice(from, to), retprobe);
    if (fd >= 0) {
      res.links.push(fd);
      for (let i = from; i < to; i++) {
        res.attached.push(i);
        progress(true);
      }
      return;
    }
    if (to - from === 1) {
      res.failed.push({ index: from, errno: -fd });
      progress(false);
      return;
    }
    const mid = from + ((to - from) >> 1);
    tryBatch(from, mid);
    tryBatch(mid, to);
  };
  if (funcs.length > 0) tryBatch(0, funcs.length);
  return res;
}
