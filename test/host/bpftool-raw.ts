// Reads `bpftool btf dump file X format raw` into plain records: an independent view of the same BTF that
// the parser's answers are checked against. Slow and simple on purpose.
import { spawnSync } from "node:child_process";

export interface RawType {
  kind: string;
  name: string;
  attrs: Map<string, string>;
  /** Member, parameter or enumerator lines: their name and attributes. */
  items: { name: string; attrs: Map<string, string> }[];
}

const MODIFIERS = new Set(["TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"]);

export function bpftoolAvailable(): boolean {
  return spawnSync("bpftool", ["version"]).status === 0;
}

export function bpftoolRaw(path: string): RawDump {
  const r = spawnSync("bpftool", ["btf", "dump", "file", path, "format", "raw"], {
    encoding: "utf8",
    maxBuffer: 512 << 20,
  });
  if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
  return new RawDump(r.stdout);
}

function attrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of s.trim().split(/\s+/)) {
    const eq = kv.indexOf("=");
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}

export class RawDump {
  readonly types: RawType[] = []; // index = type id
  lastId = 0;

  constructor(text: string) {
    let cur: RawType | undefined;
    for (const line of text.split("\n")) {
      const h = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
      if (h) {
        cur = { kind: h[2]!, name: h[3] === "(anon)" ? "" : h[3]!, attrs: attrs(h[4]!), items: [] };
        this.lastId = Number(h[1]);
        this.types[this.lastId] = cur;
        continue;
      }
      const it = /^\t'([^']*)'(.*)$/.exec(line);
      if (it && cur) cur.items.push({ name: it[1] === "(anon)" ? "" : it[1]!, attrs: attrs(it[2]!) });
    }
  }

  type(id: number): RawType {
    const t = this.types[id];
    if (!t) throw new Error(`bpftool dump has no type ${id}`);
    return t;
  }

  /** Through typedefs and qualifiers. */
  resolve(id: number): number {
    while (id !== 0 && MODIFIERS.has(this.type(id).kind)) id = Number(this.type(id).attrs.get("type_id"));
    return id;
  }

  size(id: number): number {
    const r = this.resolve(id);
    const t = this.type(r);
    if (t.kind === "PTR") return 8;
    if (t.kind === "ARRAY")
      return Number(t.attrs.get("nr_elems")) * this.size(Number(t.attrs.get("type_id")));
    return Number(t.attrs.get("size"));
  }

  /** The struct with this name that has members, and its id. */
  struct(name: string): number {
    const id = this.types.findIndex((t) => t?.kind === "STRUCT" && t.name === name && t.items.length > 0);
    if (id < 0) throw new Error(`bpftool dump has no struct ${name}`);
    return id;
  }

  /** A member's absolute bit offset and type id, through anonymous members. */
  member(structId: number, name: string): { bits: number; type: number } | undefined {
    for (const m of this.type(structId).items) {
      const bits = Number(m.attrs.get("bits_offset"));
      const type = Number(m.attrs.get("type_id"));
      if (m.name === name) return { bits, type };
      if (m.name === "") {
        const inner = this.member(this.resolve(type), name);
        if (inner) return { bits: bits + inner.bits, type: inner.type };
      }
    }
    return undefined;
  }

  isSkbPtr(id: number): boolean {
    const r = this.resolve(id);
    if (r === 0 || this.type(r).kind !== "PTR") return false;
    const to = this.resolve(Number(this.type(r).attrs.get("type_id")));
    return to !== 0 && this.type(to).kind === "STRUCT" && this.type(to).name === "sk_buff";
  }
}
