// Names for verdicts, from the running kernel: drop reasons from BTF's enum skb_drop_reason (values change
// between kernel versions, so never a table of numbers), subsystem reasons (the high 16 bits name a
// subsystem in enum skb_drop_reason_subsys, whose own enum, such as ovs_drop_reason, names the value), and
// locations through kallsyms as function+offset.
import type { Btf } from "../btf/btf.js";
import { BTF_KIND } from "../btf/kinds.js";
import { NamespaceLookups } from "../explain/system-facts.js";
import { NamespaceNames } from "../identity/namespace-names.js";
import type { VerdictNamer } from "../output/index.js";
import type { SymbolTable } from "../symbols/index.js";

const PREFIX = /^SKB_DROP_REASON_/;

export class VerdictNames implements VerdictNamer {
  private readonly reasons = new Map<number, string>();
  private subsystems?: Map<number, string>;
  private readonly locations = new Map<bigint, string>();
  /** Drops' facts that stay in the system, read in their namespace once each (explain/system-facts.ts). */
  readonly lookups = new NamespaceLookups(new NamespaceNames());

  constructor(
    private readonly btf: Btf,
    private readonly kallsyms: SymbolTable | undefined,
  ) {
    for (const [name, v] of btf.enumValues("skb_drop_reason"))
      if (!name.endsWith("_MAX") && !name.endsWith("_MASK"))
        this.reasons.set(Number(v), name.replace(PREFIX, ""));
  }

  reason(value: number): string {
    const known = this.reasons.get(value);
    if (known !== undefined) return known;
    const name = value >>> 16 ? this.subsystemReason(value) : undefined;
    const text = name ?? String(value);
    this.reasons.set(value, text);
    return text;
  }

  /** `OPENVSWITCH:OVS_DROP_LAST_ACTION`, from the subsystem's own enum; the subsystem and number alone when
   * no enum of this kernel names the value. */
  private subsystemReason(value: number): string | undefined {
    if (!this.subsystems) {
      this.subsystems = new Map();
      try {
        for (const [name, v] of this.btf.enumValues("skb_drop_reason_subsys"))
          this.subsystems.set(Number(v), name.replace(/^SKB_DROP_REASON_SUBSYS_/, ""));
      } catch {
        // older kernels have no subsystems
      }
    }
    const sub = this.subsystems.get(value >>> 16);
    if (sub === undefined) return undefined;
    for (let id = 1; id <= this.btf.typeCount; id++) {
      if (this.btf.kind(id) !== BTF_KIND.ENUM || !this.btf.name(id).endsWith("drop_reason")) continue;
      for (const [name, v] of this.btf.enumerators(id)) if (Number(v) === value) return `${sub}:${name}`;
    }
    return `${sub}:${value & 0xffff}`;
  }

  location(addr: bigint): string {
    let text = this.locations.get(addr);
    if (text === undefined) {
      const s = this.kallsyms?.resolve(addr);
      text = s ? `${s.name}+0x${s.offset.toString(16)}` : `0x${addr.toString(16)}`;
      this.locations.set(addr, text);
    }
    return text;
  }
}
