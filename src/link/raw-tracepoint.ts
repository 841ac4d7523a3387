// Raw tracepoints: BPF_RAW_TRACEPOINT_OPEN by name. The returned fd is the link.
import { rawTracepointOpen } from "../sys/bpf.js";

/** Returns the link fd, or -errno. */
export function attachRawTracepoint(progFd: number, tracepoint: string): number {
  return rawTracepointOpen(progFd, tracepoint);
}
