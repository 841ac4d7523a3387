// Raw BTF, read in place: the bytes are kept, with one Uint32Array saying where each type record starts;
// names are decoded only when asked for, and a name -> ids index is built on first use.
// Split BTF (kernel modules) continues the ids and string offsets of its base (vmlinux).
import { readFileSync } from "node:fs";
import { BTF_KIND, BTF_MAGIC, BtfError, extraSize, HEADER_MIN } from "./kinds.js";
import { enumValues, offsetof, sizeof, typeofMember } from "./queries.js";

export interface Member {
  name: string;
  type: number;
  bitOffset: number;
  /** 0 when not a bitfield. */
  bitSize: number;
}

export class Btf {
  readonly base: Btf | undefined;
  /** First id this BTF defines (1, or after the base's last). */
  readonly firstId: number;
  /** Highest valid type id. */
  readonly typeCount: number;
  private readonly buf: Buffer;
  private readonly dv: DataView;
  private readonly offsets: Uint32Array;
  private readonly strStart: number;
  private readonly strLen: number;
  /** String offsets at or above this belong to this BTF (below: to the base). */
  private readonly strBase: number;
  private index: Map<string, number[]> | undefined;

  static fromFile(path: string, base?: Btf): Btf {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BtfError(
        code === "ENOENT"
          ? `no BTF at ${path}: this kernel was built without CONFIG_DEBUG_INFO_BTF (ipft needs BTF)`
          : `cannot read BTF at ${path}: ${code ?? (e as Error).message}`,
      );
    }
    return Btf.fromBytes(bytes, base, path);
  }

  static fromBytes(bytes: Uint8Array, base?: Btf, what = "BTF data"): Btf {
    return new Btf(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), base, what);
  }

  private constructor(buf: Buffer, base: Btf | undefined, what: string) {
    this.buf = buf;
    this.base = base;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.length < HEADER_MIN || this.dv.getUint16(0, true) !== BTF_MAGIC) {
      throw new BtfError(`${what} is not BTF (bad magic or too short)`);
    }
    const hdrLen = this.dv.getUint32(4, true);
    const typeOff = hdrLen + this.dv.getUint32(8, true);
    const typeLen = this.dv.getUint32(12, true);
    this.strStart = hdrLen + this.dv.getUint32(16, true);
    this.strLen = this.dv.getUint32(20, true);
    if (typeOff + typeLen > buf.length || this.strStart + this.strLen > buf.length) {
      throw new BtfError(
        `${what} is truncated (${buf.length} bytes, header says ${Math.max(typeOff + typeLen, this.strStart + this.strLen)})`,
      );
    }
    this.strBase = base ? base.strBase + base.strLen : 0;
    this.firstId = base ? base.typeCount + 1 : 1;
    // One pass to find where each record starts.
    let offs = new Uint32Array(1 << 16);
    let n = 0;
    let p = typeOff;
    const end = typeOff + typeLen;
    while (p < end) {
      if (p + 12 > end) throw new BtfError(`${what} is truncated inside type ${this.firstId + n}`);
      if (n === offs.length) {
        const bigger = new Uint32Array(offs.length * 2);
        bigger.set(offs);
        offs = bigger;
      }
      offs[n++] = p;
      const info = this.dv.getUint32(p + 4, true);
      p += 12 + extraSize((info >>> 24) & 0x1f, info & 0xffff);
    }
    if (p !== end) throw new BtfError(`${what} is truncated inside type ${this.firstId + n - 1}`);
    this.offsets = offs.subarray(0, n);
    this.typeCount = this.firstId + n - 1;
  }

  /** The BTF (this or a base) that holds `id`, and the record's byte offset there. */
  private locate(id: number): [Btf, number] {
    if (id >= this.firstId) {
      const off = this.offsets[id - this.firstId];
      if (off === undefined) throw new BtfError(`BTF has no type id ${id}`);
      return [this, off];
    }
    if (this.base) return this.base.locate(id);
    throw new BtfError(`BTF has no type id ${id}`);
  }

  kind(id: number): number {
    if (id === 0) return BTF_KIND.UNKN;
    const [b, o] = this.locate(id);
    return (b.dv.getUint32(o + 4, true) >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    const [b, o] = this.locate(id);
    return b.dv.getUint32(o + 4, true) & 0xffff;
  }

  kindFlag(id: number): boolean {
    const [b, o] = this.locate(id);
    return b.dv.getUint32(o + 4, true) >>> 31 === 1;
  }

  /** size for INT/STRUCT/UNION/ENUM/FLOAT/DATASEC, the referenced type for the rest. */
  sizeOrType(id: number): number {
    const [b, o] = this.locate(id);
    return b.dv.getUint32(o + 8, true);
  }

  name(id: number): string {
    if (id === 0) return "void";
    const [b, o] = this.locate(id);
    return this.str(b.dv.getUint32(o, true));
  }

  str(off: number): string {
    if (off < this.strBase) return this.base!.str(off);
    const s = this.strStart + off - this.strBase;
    const e = this.buf.indexOf(0, s);
    return this.buf.toString("latin1", s, e < 0 ? this.strStart + this.strLen : e);
  }

  private u32(b: Btf, off: number): number {
    return b.dv.getUint32(off, true);
  }

  /** Members of a struct or union. */
  members(id: number): Member[] {
    const [b, o] = this.locate(id);
    const kflag = this.kindFlag(id);
    const out: Member[] = [];
    for (let i = 0, n = this.vlen(id); i < n; i++) {
      const m = o + 12 + i * 12;
      const raw = this.u32(b, m + 8);
      out.push({
        name: this.str(this.u32(b, m)),
        type: this.u32(b, m + 4),
        bitOffset: kflag ? raw & 0xffffff : raw,
        bitSize: kflag ? raw >>> 24 : 0,
      });
    }
    return out;
  }

  /** Parameters of a FUNC_PROTO (a last one with type 0 and no name marks a variadic function). */
  params(protoId: number): { name: string; type: number }[] {
    const [b, o] = this.locate(protoId);
    const out: { name: string; type: number }[] = [];
    for (let i = 0, n = this.vlen(protoId); i < n; i++) {
      const p = o + 12 + i * 8;
      out.push({ name: this.str(this.u32(b, p)), type: this.u32(b, p + 4) });
    }
    return out;
  }

  /** Element type, index type and count of an ARRAY. */
  array(id: number): { type: number; count: number } {
    const [b, o] = this.locate(id);
    return { type: this.u32(b, o + 12), count: this.u32(b, o + 20) };
  }

  /** INT encoding: bits and signedness. */
  intInfo(id: number): { bits: number; signed: boolean } {
    const [b, o] = this.locate(id);
    const v = this.u32(b, o + 12);
    return { bits: v & 0xff, signed: ((v >>> 24) & 1) === 1 };
  }

  /** Members of an ENUM or ENUM64 with their values. */
  enumerators(id: number): [string, bigint][] {
    const [b, o] = this.locate(id);
    const k = this.kind(id);
    const signed = this.kindFlag(id);
    const out: [string, bigint][] = [];
    for (let i = 0, n = this.vlen(id); i < n; i++) {
      if (k === BTF_KIND.ENUM) {
        const p = o + 12 + i * 8;
        const v = signed ? b.dv.getInt32(p + 4, true) : this.u32(b, p + 4);
        out.push([this.str(this.u32(b, p)), BigInt(v)]);
      } else {
        const p = o + 12 + i * 12;
        const v = (BigInt(this.u32(b, p + 8)) << 32n) | BigInt(this.u32(b, p + 4));
        out.push([this.str(this.u32(b, p)), signed ? BigInt.asIntN(64, v) : v]);
      }
    }
    return out;
  }

  /** Ids defined by this BTF itself (not its base). */
  *ownIds(): Generator<number> {
    for (let id = this.firstId; id <= this.typeCount; id++) yield id;
  }

  /** All ids with this name, in this BTF and its base. */
  idsNamed(name: string): number[] {
    if (!this.index) {
      const idx = new Map<string, number[]>();
      for (let id = this.firstId; id <= this.typeCount; id++) {
        const nameOff = this.dv.getUint32(this.offsets[id - this.firstId]!, true);
        if (nameOff === 0) continue;
        const n = this.str(nameOff);
        const l = idx.get(n);
        if (l) l.push(id);
        else idx.set(n, [id]);
      }
      this.index = idx;
    }
    const own = this.index.get(name) ?? [];
    return this.base ? [...this.base.idsNamed(name), ...own] : own;
  }

  /** Byte offset of a member (through anonymous members). */
  offsetof(typeName: string, member: string): number {
    return offsetof(this, typeName, member);
  }

  /** Size of a named type (typedefs and qualifiers resolved); "T[N]" and pointers too. */
  sizeof(typeName: string): number {
    return sizeof(this, typeName);
  }

  /** Name of a member's type; "uintptr_t" for pointers. */
  typeof(typeName: string, member: string): string {
    return typeofMember(this, typeName, member);
  }

  enumValues(enumName: string): Map<string, bigint> {
    return enumValues(this, enumName);
  }

  /** Skips typedef/const/volatile/restrict/type_tag. */
  resolve(id: number): number {
    for (let k = this.kind(id); ; k = this.kind(id)) {
      if (
        k === BTF_KIND.TYPEDEF ||
        k === BTF_KIND.CONST ||
        k === BTF_KIND.VOLATILE ||
        k === BTF_KIND.RESTRICT ||
        k === BTF_KIND.TYPE_TAG
      ) {
        id = this.sizeOrType(id);
      } else {
        return id;
      }
    }
  }

  /** Skips const/volatile/restrict/type_tag but keeps typedefs (their names matter to users). */
  skipQualifiers(id: number): number {
    for (let k = this.kind(id); ; k = this.kind(id)) {
      if (
        k === BTF_KIND.CONST ||
        k === BTF_KIND.VOLATILE ||
        k === BTF_KIND.RESTRICT ||
        k === BTF_KIND.TYPE_TAG
      ) {
        id = this.sizeOrType(id);
      } else {
        return id;
      }
    }
  }
}
