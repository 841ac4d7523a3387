// Raw BTF, read in place: the bytes are kept, with one Uint32Array saying where each type record starts.
// Strings are decoded on demand, and the name -> ids index is built on first use, keyed by string offset
// (integers hash faster than 150k strings). Split BTF (kernel modules) continues the ids and string
// offsets of its base (vmlinux); every accessor takes any id and asks the base for ids below firstId.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { BTF_KIND, BTF_KIND_MAX, BTF_MAGIC, BtfError, extraSize, HEADER_MIN } from "./kinds.js";
import {
  enumValues,
  type FoundMember,
  findComposite,
  findMember,
  offsetof,
  sizeOfId,
  sizeof,
  typeName,
  typeofMember,
} from "./queries.js";

export interface Member {
  name: string;
  type: number;
  /** Bits from the start of the enclosing struct/union. */
  bitOffset: number;
  /** 0 when not a bitfield. */
  bitSize: number;
}

export interface Param {
  name: string;
  type: number;
}

export interface ArrayInfo {
  type: number;
  index: number;
  count: number;
}

const NONE = 0xffffffff;
/** Name lookups answered by a scan of the records before the name index is worth building. */
const SCANS_BEFORE_INDEX = 8;

export class Btf {
  readonly base: Btf | undefined;
  /** First id this BTF defines (1, or the base's last + 1). */
  readonly firstId: number;
  /** Highest valid type id (including the base's). */
  readonly typeCount: number;
  private readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private readonly offsets: Uint32Array;
  private readonly strStart: number;
  private readonly strLen: number;
  /** String offsets at or above this belong to this BTF (below: to the base). */
  private readonly strBase: number;
  private strText: string | undefined;
  /** name offset -> first own id with that name; nextSameName chains the rest (NONE ends). */
  private byNameOff: Map<number, number> | undefined;
  private nextSameName: Uint32Array | undefined;
  private readonly nameCache = new Map<string, readonly number[]>();
  private hash: string | undefined;
  /** Names looked up by scanning, before the index is built. */
  private scans = 0;

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
    return new Btf(bytes, base, what);
  }

  private constructor(bytes: Uint8Array, base: Btf | undefined, what: string) {
    this.bytes = bytes;
    this.base = base;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = dv;
    // The wording "is not BTF (bad magic or too short)" is what users and tests look for.
    if (bytes.length < HEADER_MIN) {
      throw new BtfError(
        `${what} is not BTF (bad magic or too short): ${bytes.length} bytes, a header needs 24`,
      );
    }
    const magic = dv.getUint16(0, true);
    if (magic === 0x9feb) {
      throw new BtfError(
        `${what} is big-endian BTF (from another machine); ipft reads little-endian BTF only`,
      );
    }
    if (magic !== BTF_MAGIC) {
      const m = magic.toString(16).padStart(4, "0");
      throw new BtfError(`${what} is not BTF (bad magic or too short): magic 0x${m}, expected 0xeb9f`);
    }
    if (bytes[2] !== 1) throw new BtfError(`${what} is BTF version ${bytes[2]}; ipft reads version 1`);
    const hdrLen = dv.getUint32(4, true);
    if (hdrLen < HEADER_MIN || hdrLen > bytes.length) {
      throw new BtfError(`${what} has a bad BTF header: hdr_len ${hdrLen} (file is ${bytes.length} bytes)`);
    }
    const typeOff = hdrLen + dv.getUint32(8, true);
    const typeLen = dv.getUint32(12, true);
    this.strStart = hdrLen + dv.getUint32(16, true);
    this.strLen = dv.getUint32(20, true);
    const need = Math.max(typeOff + typeLen, this.strStart + this.strLen);
    if (need > bytes.length) {
      throw new BtfError(`${what} is truncated: ${bytes.length} bytes, its header says ${need}`);
    }
    this.strBase = base ? base.strBase + base.strLen : 0;
    this.firstId = base ? base.typeCount + 1 : 1;
    // One pass to find where each record starts. 16 bytes per record is a fair first guess at the count.
    let offs = new Uint32Array(Math.max(64, (typeLen >>> 4) + 16));
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
      const info = dv.getUint32(p + 4, true);
      const kind = (info >>> 24) & 0x1f;
      // An unknown kind has a record size we cannot know: stop rather than read garbage after it.
      if (kind > BTF_KIND_MAX) {
        throw new BtfError(
          `${what}: type ${this.firstId + n - 1} has BTF kind ${kind}, newer than ipft knows (last is ${BTF_KIND_MAX})`,
        );
      }
      p += 12 + extraSize(kind, info & 0xffff);
    }
    if (p !== end) throw new BtfError(`${what} is truncated inside type ${this.firstId + n - 1}`);
    this.offsets = offs.slice(0, n);
    this.typeCount = this.firstId + n - 1;
  }

  /** SHA-256 (hex) of these bytes and, for split BTF, of its base's: names this exact type information
   * (what was derived from it can be reused for as long as the hash matches). About 3 ms for vmlinux. */
  contentHash(): string {
    if (this.hash === undefined) {
      const h = createHash("sha256");
      if (this.base) h.update(`split on ${this.base.contentHash()}\n`);
      this.hash = h.update(this.bytes).digest("hex");
    }
    return this.hash;
  }

  /** Byte offset of an own record; throws for ids outside this BTF. */
  private rec(id: number): number {
    const off = this.offsets[id - this.firstId];
    if (off === undefined) throw new BtfError(`BTF has no type id ${id}`);
    return off;
  }

  private info(id: number): number {
    return this.dv.getUint32(this.rec(id) + 4, true);
  }

  kind(id: number): number {
    if (id < this.firstId) return id === 0 ? BTF_KIND.UNKN : this.baseOf(id).kind(id);
    return (this.info(id) >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    if (id < this.firstId) return id === 0 ? 0 : this.baseOf(id).vlen(id);
    return this.info(id) & 0xffff;
  }

  kindFlag(id: number): boolean {
    if (id < this.firstId) return id === 0 ? false : this.baseOf(id).kindFlag(id);
    return this.info(id) >>> 31 === 1;
  }

  /** size for INT/STRUCT/UNION/ENUM/ENUM64/FLOAT/DATASEC, the referenced type id for the rest. */
  sizeOrType(id: number): number {
    if (id < this.firstId) return id === 0 ? 0 : this.baseOf(id).sizeOrType(id);
    return this.dv.getUint32(this.rec(id) + 8, true);
  }

  name(id: number): string {
    if (id < this.firstId) return id === 0 ? "void" : this.baseOf(id).name(id);
    return this.str(this.dv.getUint32(this.rec(id), true));
  }

  /** A string by its offset in the (split) string section. */
  str(off: number): string {
    if (off < this.strBase) return this.base!.str(off);
    if (this.strText === undefined) {
      this.strText = Buffer.from(
        this.bytes.buffer,
        this.bytes.byteOffset + this.strStart,
        this.strLen,
      ).toString("latin1");
    }
    const s = off - this.strBase;
    if (s >= this.strLen) throw new BtfError(`BTF string offset ${off} is past the string section`);
    const e = this.strText.indexOf("\0", s);
    return this.strText.slice(s, e < 0 ? this.strLen : e);
  }

  private baseOf(id: number): Btf {
    if (!this.base) throw new BtfError(`BTF has no type id ${id}`);
    return this.base;
  }

  /** Members of a struct or union (bit offsets relative to it). */
  members(id: number): Member[] {
    if (id < this.firstId) return this.baseOf(id).members(id);
    const o = this.rec(id);
    const info = this.dv.getUint32(o + 4, true);
    const k = (info >>> 24) & 0x1f;
    if (k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION)
      throw new BtfError(`BTF type ${id} is not a struct or union`);
    const kflag = info >>> 31 === 1;
    const out: Member[] = [];
    for (let i = 0, n = info & 0xffff; i < n; i++) {
      const m = o + 12 + i * 12;
      const raw = this.dv.getUint32(m + 8, true);
      const type = this.dv.getUint32(m + 4, true);
      let bitOffset = kflag ? raw & 0xffffff : raw;
      let bitSize = kflag ? raw >>> 24 : 0;
      if (!kflag) {
        // Older encoders (no kind_flag) describe a bitfield by its int type: fewer bits than its size, or
        // a bit offset inside it.
        const r = this.resolve(type);
        if (this.kind(r) === BTF_KIND.INT) {
          const enc = this.intInfo(r);
          if (enc.offset !== 0 || enc.bits !== this.sizeOrType(r) * 8) {
            bitOffset += enc.offset;
            bitSize = enc.bits;
          }
        }
      }
      out.push({ name: this.str(this.dv.getUint32(m, true)), type, bitOffset, bitSize });
    }
    return out;
  }

  /** Parameters of a FUNC_PROTO (a last one with type 0 and no name marks a variadic function). */
  params(protoId: number): Param[] {
    if (protoId < this.firstId) return this.baseOf(protoId).params(protoId);
    const o = this.rec(protoId);
    const out: Param[] = [];
    for (let i = 0, n = this.vlen(protoId); i < n; i++) {
      const p = o + 12 + i * 8;
      out.push({ name: this.str(this.dv.getUint32(p, true)), type: this.dv.getUint32(p + 4, true) });
    }
    return out;
  }

  /** Type id of a FUNC_PROTO's parameter i, without decoding its name (discovery's hot loop). */
  paramType(protoId: number, i: number): number {
    if (protoId < this.firstId) return this.baseOf(protoId).paramType(protoId, i);
    return this.dv.getUint32(this.rec(protoId) + 12 + i * 8 + 4, true);
  }

  /** Element type, index type and element count of an ARRAY. */
  array(id: number): ArrayInfo {
    if (id < this.firstId) return this.baseOf(id).array(id);
    const o = this.rec(id);
    if (this.kind(id) !== BTF_KIND.ARRAY) throw new BtfError(`BTF type ${id} is not an array`);
    return {
      type: this.dv.getUint32(o + 12, true),
      index: this.dv.getUint32(o + 16, true),
      count: this.dv.getUint32(o + 20, true),
    };
  }

  /** The type a PTR points to (0 for void *). */
  pointee(id: number): number {
    if (this.kind(id) !== BTF_KIND.PTR) throw new BtfError(`BTF type ${id} is not a pointer`);
    return this.sizeOrType(id);
  }

  /** INT encoding: bits, bit offset and signedness. */
  intInfo(id: number): { bits: number; offset: number; signed: boolean } {
    if (id < this.firstId) return this.baseOf(id).intInfo(id);
    const v = this.dv.getUint32(this.rec(id) + 12, true);
    return { bits: v & 0xff, offset: (v >>> 16) & 0xff, signed: ((v >>> 24) & 1) === 1 };
  }

  /** Members of an ENUM or ENUM64 with their values (signed when the kind flag says so). */
  enumerators(id: number): [string, bigint][] {
    if (id < this.firstId) return this.baseOf(id).enumerators(id);
    const o = this.rec(id);
    const k = this.kind(id);
    const signed = this.kindFlag(id);
    const out: [string, bigint][] = [];
    for (let i = 0, n = this.vlen(id); i < n; i++) {
      if (k === BTF_KIND.ENUM) {
        const p = o + 12 + i * 8;
        const v = signed ? this.dv.getInt32(p + 4, true) : this.dv.getUint32(p + 4, true);
        out.push([this.str(this.dv.getUint32(p, true)), BigInt(v)]);
      } else if (k === BTF_KIND.ENUM64) {
        const p = o + 12 + i * 12;
        const lo = BigInt(this.dv.getUint32(p + 4, true));
        const v = (BigInt(this.dv.getUint32(p + 8, true)) << 32n) | lo;
        out.push([this.str(this.dv.getUint32(p, true)), signed ? BigInt.asIntN(64, v) : v]);
      } else {
        throw new BtfError(`BTF type ${id} is not an enum`);
      }
    }
    return out;
  }

  /** Ids defined by this BTF itself (not its base). */
  *ownIds(): Generator<number> {
    for (let id = this.firstId; id <= this.typeCount; id++) yield id;
  }

  /** All ids with this name, in the base first, then this BTF; ascending. */
  idsNamed(name: string): readonly number[] {
    if (name === "") return [];
    const cached = this.nameCache.get(name);
    if (cached) return cached;
    const own: number[] = [];
    const offs = this.nameOffsets(name);
    // The first few names are found by one pass over the records (a couple of ms); building the index
    // costs several passes' worth, and a tracing run without a script asks for three names or so.
    if (!this.byNameOff && this.scans < SCANS_BEFORE_INDEX && offs.length > 0) {
      this.scans++;
      const dv = this.dv;
      const recs = this.offsets;
      for (let i = 0; i < recs.length; i++) {
        const off = dv.getUint32(recs[i]!, true);
        if (off !== 0 && offs.includes(off)) own.push(this.firstId + i);
      }
    } else {
      this.buildIndex();
      for (const off of offs) {
        for (let id = this.byNameOff!.get(off); id !== undefined && id !== NONE; ) {
          own.push(id);
          id = this.nextSameName![id - this.firstId]!;
        }
      }
    }
    if (own.length > 1) own.sort((a, b) => a - b);
    const all = this.base ? [...this.base.idsNamed(name), ...own] : own;
    this.nameCache.set(name, all);
    return all;
  }

  /** Builds the lazily made index: name offset -> ids, chained through a Uint32Array. */
  buildIndex(): void {
    if (this.byNameOff) return;
    const n = this.offsets.length;
    const head = new Map<number, number>();
    const next = new Uint32Array(n).fill(NONE);
    // Walk backwards so each chain comes out in ascending id order.
    for (let i = n - 1; i >= 0; i--) {
      const off = this.dv.getUint32(this.offsets[i]!, true);
      if (off === 0) continue;
      const h = head.get(off);
      if (h !== undefined) next[i] = h;
      head.set(off, this.firstId + i);
    }
    this.byNameOff = head;
    this.nextSameName = next;
  }

  /** Every string offset (the bases' and own) whose string is exactly `name`. Usually one. */
  private nameOffsets(name: string): number[] {
    // A split BTF may name its types with its base's strings.
    const out = this.base ? this.base.nameOffsets(name) : [];
    out.push(...this.ownNameOffsets(name));
    return out;
  }

  private ownNameOffsets(name: string): number[] {
    this.str(this.strBase); // decodes the section
    const text = this.strText!;
    const out: number[] = [];
    if (text.startsWith(`${name}\0`)) out.push(this.strBase);
    const needle = `\0${name}\0`;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1))
      out.push(this.strBase + i + 1);
    return out;
  }

  // ---- Questions users ask (see queries.ts) ----

  /**
   * Byte offset of a member, through anonymous struct/union members; "a.b" walks named ones too.
   * A bitfield has no byte offset: BtfError (use member() for its bit offset and size).
   */
  offsetof(typeName: string, member: string): number {
    return offsetof(this, typeName, member);
  }

  /** Size of a named type (typedefs and qualifiers resolved); "T[N]", "struct x" and "T *" too. */
  sizeof(typeName: string): number {
    return sizeof(this, typeName);
  }

  /** Name of a member's type; "uintptr_t" for pointers. */
  typeof(typeName: string, member: string): string {
    return typeofMember(this, typeName, member);
  }

  /** Enumerator name -> value of an enum or enum64 (e.g. "bpf_func_id"). */
  enumValues(enumName: string): Map<string, bigint> {
    return enumValues(this, enumName);
  }

  // ---- Lower-level API (for the expression compiler) ----

  /** Id of the struct or union with this name ("struct x", "union x", or a typedef to one). */
  findStruct(typeName: string): number {
    return findComposite(this, typeName);
  }

  /** A named member of a struct/union id, looking through anonymous members; bit offset is absolute. */
  member(compositeId: number, name: string): FoundMember | undefined {
    return findMember(this, compositeId, name);
  }

  /** Size in bytes of a type id (through typedefs and qualifiers; pointers are 8). */
  size(id: number): number {
    return sizeOfId(this, id);
  }

  /** The name a user would write for a type id ("__u32", "char[16]", "uintptr_t" for pointers). */
  typeName(id: number): string {
    return typeName(this, id);
  }

  /** Skips typedef/const/volatile/restrict/type_tag. */
  resolve(id: number): number {
    return this.skip(id, true);
  }

  /** Skips const/volatile/restrict/type_tag but keeps typedefs (their names matter to users). */
  skipQualifiers(id: number): number {
    return this.skip(id, false);
  }

  private skip(id: number, typedefs: boolean): number {
    for (let k = this.kind(id); ; k = this.kind(id)) {
      const qualifier =
        k === BTF_KIND.CONST || k === BTF_KIND.VOLATILE || k === BTF_KIND.RESTRICT || k === BTF_KIND.TYPE_TAG;
      if (!qualifier && !(typedefs && k === BTF_KIND.TYPEDEF)) return id;
      id = this.sizeOrType(id);
    }
  }
}
