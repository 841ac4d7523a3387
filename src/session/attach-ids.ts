// Names for the record's function field: kernel addresses resolve through kallsyms; tracepoints carry an id
// ipft chose (small numbers, never a kernel address).
import type { AttachPoint } from "../plan/attach-points.js";

export interface AttachName {
  name: string;
  module: string;
}

const TRACEPOINT_BASE = 0x1_0000_0000n;

export class AttachIds {
  private readonly byId = new Map<bigint, AttachName>();
  private readonly ids = new Map<AttachPoint, bigint>();

  /** The constant a tracepoint's program writes as its function field. */
  idOf(p: AttachPoint): bigint {
    let id = this.ids.get(p);
    if (id === undefined) {
      id = TRACEPOINT_BASE + BigInt(this.ids.size);
      this.ids.set(p, id);
      this.byId.set(id, { name: p.name, module: p.module });
    }
    return id;
  }

  lookup(id: bigint): AttachName | undefined {
    return this.byId.get(id);
  }
}
