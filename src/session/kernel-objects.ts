// Everything ipft holds in the kernel (maps, programs, links, mappings). Closing them is all it takes to
// leave nothing behind: links are fd-based, so even SIGKILL cleans up when the process dies.
import { close } from "../sys/libc.js";

export class KernelObjects {
  private readonly links: number[] = [];
  private readonly others: (() => void)[] = [];

  add(fd: number): number {
    this.others.push(() => close(fd));
    return fd;
  }

  /** Something with its own close (a mapped ring buffer, a map wrapper). */
  own<T extends { close(): void }>(r: T): T {
    this.others.push(() => r.close());
    return r;
  }

  addLink(fd: number): number {
    this.links.push(fd);
    return fd;
  }

  /** The links held now (to read their counts before they close). */
  linkFds(): readonly number[] {
    return this.links;
  }

  /** Stops tracing: no program runs once its links are gone. */
  closeLinks(): void {
    while (this.links.length > 0) close(this.links.pop()!);
  }

  /** Links first, then programs and maps, newest first. Safe to call more than once. */
  closeAll(): void {
    this.closeLinks();
    while (this.others.length > 0) this.others.pop()!();
  }
}
