// Builds small raw BTF blobs for tests: types are added in order (ids from `firstId`), strings interned.
import { BTF_KIND } from "../../src/btf/index.js";

export class BtfBuilder {
  private readonly types: number[][] = [];
  private readonly strs: string[] = [""];
  private readonly strOff = new Map<string, number>([["", 0]]);
  private strLen = 1;

  /**
   * firstId/strBase: for split BTF, the base's type count + 1 and string section length.
   * inherited: the base's strings, which a split BTF names its types with, as the kernel's do.
   */
  constructor(
    private readonly firstId = 1,
    private readonly strBase = 0,
    private readonly inherited = new Map<string, number>(),
  ) {}

  /** A split BTF builder on top of this one. */
  split(): BtfBuilder {
    return new BtfBuilder(
      this.lastId + 1,
      this.strBase + this.strLen,
      new Map([...this.inherited, ...this.strOff]),
    );
  }

  str(s: string): number {
    if (s === "") return 0;
    let o = this.inherited.get(s) ?? this.strOff.get(s);
    if (o === undefined) {
      o = this.strBase + this.strLen;
      this.strOff.set(s, o);
      this.strs.push(s);
      this.strLen += Buffer.byteLength(s) + 1;
    }
    return o;
  }

  private add(
    name: string,
    kind: number,
    vlen: number,
    sizeOrType: number,
    extra: number[] = [],
    kflag = false,
  ): number {
    this.types.push([this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra]);
    return this.firstId + this.types.length - 1;
  }

  int(name: string, size: number, signed = false): number {
    return this.add(name, BTF_KIND.INT, 0, size, [((signed ? 1 : 0) << 24) | (size * 8)]);
  }
  /** An int with an explicit encoding: how older encoders described a bitfield (no kind_flag). */
  intBits(name: string, size: number, bits: number, bitOffset: number): number {
    return this.add(name, BTF_KIND.INT, 0, size, [((bitOffset & 0xff) << 16) | bits]);
  }
  /** Any record, for kinds or layouts the typed helpers do not make. */
  raw(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[] = []): number {
    return this.add(name, kind, vlen, sizeOrType, extra);
  }
  ptr(to: number): number {
    return this.add("", BTF_KIND.PTR, 0, to);
  }
  typedef(name: string, to: number): number {
    return this.add(name, BTF_KIND.TYPEDEF, 0, to);
  }
  konst(to: number): number {
    return this.add("", BTF_KIND.CONST, 0, to);
  }
  volatile(to: number): number {
    return this.add("", BTF_KIND.VOLATILE, 0, to);
  }
  restrict(to: number): number {
    return this.add("", BTF_KIND.RESTRICT, 0, to);
  }
  typeTag(name: string, to: number): number {
    return this.add(name, BTF_KIND.TYPE_TAG, 0, to);
  }
  fwd(name: string, union = false): number {
    return this.add(name, BTF_KIND.FWD, 0, 0, [], union);
  }
  float(name: string, size: number): number {
    return this.add(name, BTF_KIND.FLOAT, 0, size);
  }
  array(elem: number, count: number, index: number): number {
    return this.add("", BTF_KIND.ARRAY, 0, 0, [elem, index, count]);
  }
  /** members: [name, type, bitOffset, bitSize?]; any bitSize makes it a kind_flag struct. */
  struct(name: string, size: number, members: [string, number, number, number?][], union = false): number {
    const kflag = members.some((m) => m[3] !== undefined);
    const extra = members.flatMap(([n, t, off, bits]) => [
      this.str(n),
      t,
      kflag ? ((bits ?? 0) << 24) | off : off,
    ]);
    return this.add(name, union ? BTF_KIND.UNION : BTF_KIND.STRUCT, members.length, size, extra, kflag);
  }
  union(name: string, size: number, members: [string, number, number, number?][]): number {
    return this.struct(name, size, members, true);
  }
  /** signed: kind_flag set, values read as s32. */
  enumeration(name: string, values: [string, number][], signed = false): number {
    return this.add(
      name,
      BTF_KIND.ENUM,
      values.length,
      4,
      values.flatMap(([n, v]) => [this.str(n), v]),
      signed,
    );
  }
  enum64(name: string, values: [string, bigint][], signed = false): number {
    return this.add(
      name,
      BTF_KIND.ENUM64,
      values.length,
      8,
      values.flatMap(([n, v]) => {
        const u = BigInt.asUintN(64, v);
        return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)];
      }),
      signed,
    );
  }
  proto(ret: number, params: [string, number][]): number {
    return this.add(
      "",
      BTF_KIND.FUNC_PROTO,
      params.length,
      ret,
      params.flatMap(([n, t]) => [this.str(n), t]),
    );
  }
  func(name: string, proto: number): number {
    return this.add(name, BTF_KIND.FUNC, 1, proto);
  }

  build(): Uint8Array {
    const typeBytes = Buffer.alloc(this.types.reduce((a, t) => a + t.length * 4, 0));
    let p = 0;
    for (const t of this.types) for (const w of t) p = typeBytes.writeUInt32LE(w >>> 0, p);
    const strBytes = Buffer.concat(this.strs.map((s) => Buffer.from(`${s}\0`)));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(typeBytes.length, 12);
    hdr.writeUInt32LE(typeBytes.length, 16);
    hdr.writeUInt32LE(strBytes.length, 20);
    return new Uint8Array(Buffer.concat([hdr, typeBytes, strBytes]));
  }

  get strSize(): number {
    return this.strLen;
  }
  get lastId(): number {
    return this.firstId + this.types.length - 1;
  }
}
