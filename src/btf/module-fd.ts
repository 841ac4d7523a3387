// Kernel modules' BTF objects as fds: fentry/fexit on a module's function must name the module's BTF
// object (attach_btf_obj_fd) next to the function's id in that BTF. The kernel lists its BTF objects by id.
import { btfGetFdById, btfGetNextId, btfObjectName, close } from "../sys/bpf.js";

/** Finds the BTF object of each module asked for, opening every kernel BTF object once. The caller owns
 * the fds it receives; the others are closed before returning. */
export function moduleBtfFds(modules: Iterable<string>): Map<string, number> {
  const want = new Set(modules);
  const found = new Map<string, number>();
  if (want.size === 0) return found;
  for (let id = btfGetNextId(0); id > 0 && found.size < want.size; id = btfGetNextId(id)) {
    const fd = btfGetFdById(id);
    if (fd < 0) continue; // the module went away between the two calls
    let keep = false;
    try {
      const o = btfObjectName(fd);
      if (o.kernel && want.has(o.name) && !found.has(o.name)) {
        found.set(o.name, fd);
        keep = true;
      }
    } finally {
      if (!keep) close(fd);
    }
  }
  return found;
}
