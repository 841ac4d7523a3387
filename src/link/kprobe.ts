// A kprobe through the kprobe PMU: a perf event on one function, with the program attached by
// BPF_LINK_CREATE, or on kernels before 5.15 by the perf fd's own ioctl. Both are fds: they go with ipft.
import { linkCreatePerfEvent } from "../sys/bpf.js";
import { close, ioctl } from "../sys/libc.js";
import { type KprobePmu, openKprobe } from "../sys/perf.js";

const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;

/** Attaches `progFd` to a kprobe on `func`. Returns the fd that keeps it attached, or -errno. */
export function attachKprobe(
  progFd: number,
  pmu: KprobePmu | undefined,
  func: string,
  retprobe = false,
): number {
  const pfd = pmu ? openKprobe(pmu, func, retprobe) : -95;
  if (pfd < 0) return pfd;
  const link = linkCreatePerfEvent(progFd, pfd);
  if (link >= 0) {
    close(pfd); // the link holds the perf event
    return link;
  }
  // The perf fd itself keeps the program attached, so it stays open.
  let r = ioctl(pfd, PERF_EVENT_IOC_SET_BPF, progFd);
  if (r >= 0) r = ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
  if (r < 0) {
    close(pfd);
    return r;
  }
  return pfd;
}
