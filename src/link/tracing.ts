// fentry/fexit: the target was fixed when the program was loaded (attach_btf_id), so attaching needs only
// the program. BPF_LINK_CREATE, or BPF_RAW_TRACEPOINT_OPEN with no name on kernels before 5.11.
import { linkCreateTracing, rawTracepointOpen } from "../sys/bpf.js";

/** Returns the link fd, or -errno. */
export function attachTracing(progFd: number, attachType: number): number {
  const fd = linkCreateTracing(progFd, attachType);
  return fd >= 0 ? fd : rawTracepointOpen(progFd, null);
}
