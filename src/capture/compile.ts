// Capture expressions compiled to a module under the scripting manual's ABI. Each pointer step is a
// bpf_probe_read_kernel into the module's stack; a NULL pointer (or a read that faults) on the way leaves
// that field's bit in the leading "captured" bitmap clear, so it shows as null instead of garbage.
//
// Registers: R6 = &data for the whole module (the caller's R6 is saved at R10-8 and restored at the end, on
// every path); the skb is kept at R10-16 and values in 8-byte stack slots from R10-24 down, zeroed first so
// that every read of a slot is of initialised stack. A pointer computed for one field is reused by later
// fields (ip->saddr and ip->daddr share the header pointer) when it was computed on that field's own path.
import { asm, encode, type Insn } from "../asm/index.js";
import { R0, R1, R2, R3, R6, R10 } from "../asm/opcodes.js";
import type { Btf } from "../btf/index.js";
import { MODULE_STACK, USER_DATA_SIZE } from "../program/stack-layout.js";
import { EVENT_JSON_KEYS } from "../record/parts/index.js";
import { aliasesOf, closestMember, resolvePath } from "./aliases.js";
import { chooseDecoding, type Decoding, type FieldShape, TCP_FLAGS } from "./formats.js";
import {
  CaptureError,
  type CaptureSpec,
  defaultLabel,
  type Expr,
  exprText,
  longLabel,
  parseSpec,
} from "./parse.js";
import { describeTy, isScalar, pointeeStruct, ptrTo, sizeOf, type Ty, tyOf } from "./types.js";

export interface CaptureField {
  label: string;
  /** What the user wrote. */
  text: string;
  /** Byte offset in the 64-byte data area, and bytes taken. */
  offset: number;
  size: number;
  /** Bit of the leading bitmap that says the field was read. */
  bit: number;
  type: string;
  decoding: Decoding;
}

export interface CompiledCapture {
  fields: CaptureField[];
  /** Bytes of the leading bitmap. */
  bitmapBytes: number;
  /** Bytes used of the 64. */
  used: number;
  insns: Insn[];
  bytes: Uint8Array;
}

export interface CaptureEnv {
  btf: Btf;
  /** bpf_probe_read_kernel where the kernel has it, else bpf_probe_read. */
  probeRead: number;
}

/** Header shorthands: the struct and the skb offset field that locates it from skb->head. */
const HEADERS: Record<string, [string, string]> = {
  eth: ["ethhdr", "mac_header"],
  ip: ["iphdr", "network_header"],
  ip6: ["ipv6hdr", "network_header"],
  arp: ["arphdr", "network_header"],
  tcp: ["tcphdr", "transport_header"],
  udp: ["udphdr", "transport_header"],
  icmp: ["icmphdr", "transport_header"],
  icmp6: ["icmp6hdr", "transport_header"],
};

const SAVE_R6 = -8;
const SKB_SLOT = -16;
const FIRST_SLOT = -24;

/** Where a value is: in kernel memory at (pointer in `base` slot) + off, in a stack slot, or a constant. */
type Loc = {
  k: "loc";
  base: number;
  off: number;
  ty: Ty;
  bit?: { off: number; size: number };
  member?: string;
};
type Val = { k: "val"; slot: number; ty: Ty };
type Num = { k: "num"; value: number };
type R = Loc | Val | Num;

interface Cached {
  slot: number;
  field: number;
  /** Computed before anything in its field could skip: valid for every later field. */
  safe: boolean;
  ty: Ty;
}

class Compiler {
  private body: Insn[] = [];
  private nextSlot = FIRST_SLOT;
  private cache = new Map<string, Cached>();
  private field = -1;
  private skips = 0;
  private pendingLabel: string | undefined;
  private preset: FieldShape["preset"];
  /** Slots holding the skb register itself, or sums on it: not numbers to the verifier but the pointer it
   * was given (BTF-typed at fentry), which 6.1 refuses to store a byte at a time ("invalid size of register
   * spill"). storeBytes copies these with the read helper instead. */
  private kernelPointers = new Set<number>([SKB_SLOT]);

  constructor(private readonly env: CaptureEnv) {}

  private get btf(): Btf {
    return this.env.btf;
  }

  private emit(...insns: Insn[]): void {
    for (const i of insns) {
      if (this.pendingLabel) {
        this.body.push({ ...i, label: this.pendingLabel });
        this.pendingLabel = undefined;
      } else {
        this.body.push(i);
      }
    }
  }

  private endLabel(): string {
    return `field${this.field}_end`;
  }

  private skipIf(op: number, reg: number, imm: number): void {
    this.emit(asm.jmpImm(op, reg, imm, this.endLabel()));
    this.skips++;
  }

  private newSlot(): number {
    const s = this.nextSlot;
    if (-s > MODULE_STACK)
      throw new CaptureError("the captures need more than 256 bytes of stack: capture fewer fields");
    this.nextSlot -= 8;
    return s;
  }

  /** probe_read(dst, size, *(base slot) + off); skips the field when the read fails. */
  private read(dst: { reg: number; off: number }, size: number, baseSlot: number, off: number): void {
    this.emit(asm.mov64Reg(R1, dst.reg), asm.alu64Imm(asm.ADD, R1, dst.off), asm.mov64Imm(R2, size));
    this.emit(asm.ldxMem(asm.DW, R3, R10, baseSlot));
    if (off !== 0) this.emit(asm.alu64Imm(asm.ADD, R3, off));
    this.emit(asm.call(this.env.probeRead));
    this.skipIf(asm.JNE, R0, 0);
  }

  compileField(spec: CaptureSpec, index: number, dataOff: number): FieldShape {
    this.field = index;
    this.skips = 0;
    this.preset = undefined;
    const r = this.eval(spec.expr);
    const what = spec.text;
    let shape: FieldShape;
    if (r.k === "num") throw new CaptureError(`${what}: a number is not something to capture`);
    if (r.k === "val") {
      const size = sizeOf(r.ty);
      this.storeBytes(r.slot, size, dataOff);
      shape = { ty: r.ty, size };
    } else if (r.bit) {
      const first = Math.floor(r.bit.off / 8);
      const last = Math.floor((r.bit.off + r.bit.size - 1) / 8);
      const size = last - first + 1;
      if (size > 8)
        throw new CaptureError(`${what} is a bitfield spread over ${size} bytes; at most 8 can be read`);
      this.read({ reg: R6, off: dataOff }, size, r.base, r.off + first);
      shape = { ty: r.ty, size, bit: { shift: r.bit.off % 8, bits: r.bit.size } };
    } else {
      const size = sizeOf(r.ty);
      if (size === 0)
        throw new CaptureError(`${what} has type ${describeTy(r.ty)}, which has no size to capture`);
      if (size > USER_DATA_SIZE)
        throw new CaptureError(`${what} is ${describeTy(r.ty)} of ${size} bytes; a trace carries at most 64`);
      this.read({ reg: R6, off: dataOff }, size, r.base, r.off);
      shape = { ty: r.ty, size };
    }
    if (r.k === "loc" && r.member) shape.member = r.member;
    if (this.preset) shape.preset = this.preset;
    // Mark the field as read.
    const byte = Math.floor(index / 8);
    this.emit(
      asm.ldxMem(asm.B, R0, R6, byte),
      asm.alu64Imm(asm.OR, R0, 1 << (index % 8)),
      asm.stxMem(asm.B, R6, R0, byte),
    );
    this.pendingLabel = this.endLabel();
    return shape;
  }

  /** A computed value (in a stack slot) into the data area, one byte at a time, low byte first (the slots
   * are little-endian: a narrower read fills a slot's low bytes): fields are packed, so the data offset is
   * rarely aligned, and the verifier refuses a misaligned wider store where the data area is on the stack. */
  private storeBytes(slot: number, size: number, dataOff: number): void {
    if (![1, 2, 4, 8].includes(size))
      throw new CaptureError(`a computed value of ${size} bytes cannot be stored`);
    if (this.kernelPointers.has(slot)) {
      this.emit(asm.mov64Reg(R1, R6), asm.alu64Imm(asm.ADD, R1, dataOff), asm.mov64Imm(R2, size));
      this.emit(asm.mov64Reg(R3, R10), asm.alu64Imm(asm.ADD, R3, slot), asm.call(this.env.probeRead));
      return;
    }
    this.emit(asm.ldxMem(asm.DW, R0, R10, slot));
    for (let i = 0; i < size; i++) {
      if (i > 0) this.emit(asm.alu64Imm(asm.RSH, R0, 8));
      this.emit(asm.stxMem(asm.B, R6, R0, dataOff + i));
    }
  }

  /** The finished module: save R6, zero the slots, the fields, restore R6. */
  finish(): Insn[] {
    const pro: Insn[] = [
      asm.stxMem(asm.DW, R10, R6, SAVE_R6),
      asm.mov64Reg(R6, R1),
      asm.stxMem(asm.DW, R10, R3, SKB_SLOT),
    ];
    for (let s = FIRST_SLOT; s > this.nextSlot; s -= 8) pro.push(asm.stMem(asm.DW, R10, s, 0));
    this.emit(asm.ldxMem(asm.DW, R6, R10, SAVE_R6));
    return [...pro, ...this.body];
  }

  // ---- expressions ----

  private eval(e: Expr): R {
    switch (e.k) {
      case "num":
        return { k: "num", value: e.value };
      case "name":
        if (e.name === "skb")
          return { k: "val", slot: SKB_SLOT, ty: ptrTo(this.btf, this.btf.findStruct("sk_buff")) };
        if (HEADERS[e.name]) return this.value(e);
        throw new CaptureError(
          `unknown name "${e.name}" (start from skb, or a header: ${Object.keys(HEADERS).join(", ")})`,
        );
      case "member": {
        if (e.arrow) {
          const p = this.value(e.base);
          const sid = pointeeStruct(this.btf, p.ty, exprText(e.base));
          return { ...this.member(sid, e.name, exprText(e.base), "->"), k: "loc", base: p.slot };
        }
        const b = this.eval(e.base);
        if (b.k !== "loc" || b.ty.k !== "struct")
          throw new CaptureError(
            `${exprText(e.base)} is not a struct (use -> for a pointer)${b.k !== "num" && b.ty.k === "ptr" ? `: write ${exprText(e.base)}->${e.name}` : ""}`,
          );
        if (b.bit) throw new CaptureError(`${exprText(e.base)} is a bitfield`);
        const m = this.member(b.ty.id, e.name, exprText(e.base), ".");
        return {
          k: "loc",
          base: b.base,
          off: b.off + m.off,
          ty: m.ty,
          ...(m.bit ? { bit: m.bit } : {}),
          member: e.name,
        };
      }
      case "index": {
        const b = this.eval(e.base);
        const where = exprText(e.base);
        if (b.k === "loc" && b.ty.k === "array") {
          if (e.index >= b.ty.count)
            throw new CaptureError(
              `${where}[${e.index}] is out of bounds: ${where} has ${b.ty.count} elements`,
            );
          const elem = tyOf(this.btf, b.ty.elem);
          return { k: "loc", base: b.base, off: b.off + e.index * sizeOf(elem), ty: elem };
        }
        if (b.k !== "num" && b.ty.k === "ptr" && b.ty.to !== 0) {
          const p = this.value(e.base);
          const elem = tyOf(this.btf, (p.ty as { to: number }).to);
          return { k: "loc", base: p.slot, off: e.index * sizeOf(elem), ty: elem };
        }
        throw new CaptureError(`${where} is not an array or a typed pointer, so it cannot be indexed`);
      }
      case "cast": {
        const v = this.value(e.expr);
        if (v.ty.k !== "ptr" && !(v.ty.k === "int" && v.ty.size === 8))
          throw new CaptureError(
            `${exprText(e.expr)} is ${describeTy(v.ty)}: only pointers and 64-bit integers can be cast`,
          );
        let sid: number;
        try {
          sid = this.btf.findStruct(e.struct);
        } catch {
          throw new CaptureError(`BTF has no struct named "${e.struct}"`);
        }
        return { k: "val", slot: v.slot, ty: ptrTo(this.btf, sid) };
      }
      case "add":
        return this.value(e);
      case "call":
        return this.value(e);
    }
  }

  private member(
    sid: number,
    name: string,
    where: string,
    sep: "->" | ".",
  ): { off: number; ty: Ty; bit?: { off: number; size: number }; member: string } {
    const m = this.btf.member(sid, name);
    if (!m) {
      if (name === "flags" && this.btf.name(sid) === "tcphdr") {
        // The kernel's tcp_flag_byte(): the 8 flag bits live in byte 13 as bitfields; one byte here.
        this.preset = { fmt: "flags", names: TCP_FLAGS };
        return {
          off: 13,
          ty: { k: "int", size: 1, signed: false, bool: false, names: ["__u8"] },
          member: name,
        };
      }
      const struct = describeTy(tyOf(this.btf, sid));
      const path = aliasesOf(this.btf, sid).get(name);
      if (path) {
        // The kernel's #define shorthands (sk->sk_family is sk->__sk_common.skc_family).
        const r = resolvePath(this.btf, sid, path);
        if (!r)
          throw new CaptureError(
            `${where}: ${struct} has no member "${name}", and ${path}, which the kernel's headers name so, is not in this kernel's BTF`,
          );
        return this.placed(r.bitOffset, r.bitSize, r.type, name);
      }
      const near = closestMember(this.btf, sid, name);
      throw new CaptureError(
        `${where}: ${struct} has no member "${name}"${near ? `; did you mean ${where}${sep}${near}?` : ""}`,
      );
    }
    return this.placed(m.absBitOffset, m.bitSize, m.type, name);
  }

  /** A member at a bit offset from its struct: a byte offset, or a bitfield. */
  private placed(
    bitOffset: number,
    bitSize: number,
    type: number,
    name: string,
  ): { off: number; ty: Ty; bit?: { off: number; size: number }; member: string } {
    const ty = tyOf(this.btf, type);
    if (bitSize !== 0 || bitOffset % 8 !== 0)
      return { off: 0, ty, bit: { off: bitOffset, size: bitSize }, member: name };
    return { off: bitOffset / 8, ty, member: name };
  }

  /** The expression's value in a stack slot (pointers are NULL-checked), shared with later fields when safe. */
  private value(e: Expr): Val {
    const key = exprText(e);
    const hit = this.cache.get(key);
    if (hit && (hit.safe || hit.field === this.field)) {
      if (hit.ty.k === "ptr") this.nullCheck(hit.slot);
      return { k: "val", slot: hit.slot, ty: hit.ty };
    }
    const safe = this.skips === 0;
    const v = this.compute(e);
    // Only pointers are shared across fields: a skipped computation leaves 0, which their NULL check catches.
    // Integers are reused only later in the same field (which nothing skipped, or it would not be there).
    if (v.slot !== SKB_SLOT)
      this.cache.set(key, { slot: v.slot, field: this.field, safe: safe && v.ty.k === "ptr", ty: v.ty });
    return v;
  }

  private nullCheck(slot: number): void {
    this.emit(asm.ldxMem(asm.DW, R0, R10, slot));
    this.skipIf(asm.JEQ, R0, 0);
  }

  private compute(e: Expr): Val {
    if (e.k === "name" && HEADERS[e.name]) {
      const [struct, field] = HEADERS[e.name]!;
      const skb: Expr = { k: "name", name: "skb" };
      const sid = this.btf.findStruct(struct);
      const head = this.value({ k: "member", base: skb, name: "head", arrow: true });
      const off = this.load(
        this.eval({ k: "member", base: skb, name: field, arrow: true }) as Loc,
        `skb->${field}`,
      );
      // ~0 means the header was never set (skb_mac_header_was_set() and friends).
      this.emit(asm.ldxMem(asm.DW, R0, R10, off.slot));
      this.skipIf(asm.JEQ, R0, (1 << (8 * sizeOf(off.ty))) - 1);
      return { k: "val", slot: this.add(head.slot, off.slot, 1), ty: ptrTo(this.btf, sid) };
    }
    if (e.k === "call") {
      if (e.fn !== "skb_shinfo")
        throw new CaptureError(`unknown function "${e.fn}" (the one there is: skb_shinfo(skb))`);
      // skb_shinfo(skb): the shared info sits at skb->end (an offset from head on 64-bit kernels).
      const skbTy = this.value(e.arg).ty;
      if (skbTy.k !== "ptr" || describeTy(skbTy) !== "struct sk_buff *")
        throw new CaptureError(`skb_shinfo() takes the skb, not ${exprText(e.arg)}`);
      const end: Expr = { k: "member", base: e.arg, name: "end", arrow: true };
      const endTy = (this.eval(end) as Loc).ty;
      const at: Expr =
        endTy.k === "ptr"
          ? end
          : { k: "add", left: { k: "member", base: e.arg, name: "head", arrow: true }, right: end };
      return this.value({ k: "cast", struct: "skb_shared_info", expr: at });
    }
    if (e.k === "add") {
      const l = this.eval(e.left);
      const r = this.eval(e.right);
      if (l.k === "num" && r.k === "num")
        throw new CaptureError(`${exprText(e)} adds two numbers: nothing to read`);
      const [p, q] =
        l.k !== "num" && (l.ty.k === "ptr" || r.k === "num" || r.ty.k !== "ptr") ? [l, r] : [r, l];
      const pv = this.load(p as Loc | Val, exprText(e));
      const scale = pv.ty.k === "ptr" && pv.ty.to !== 0 ? sizeOf(tyOf(this.btf, pv.ty.to)) || 1 : 1;
      if (q.k === "num") {
        const dst = this.newSlot();
        this.emit(
          asm.ldxMem(asm.DW, R0, R10, pv.slot),
          asm.alu64Imm(asm.ADD, R0, q.value * scale),
          asm.stxMem(asm.DW, R10, R0, dst),
        );
        if (this.kernelPointers.has(pv.slot)) this.kernelPointers.add(dst);
        return { k: "val", slot: dst, ty: pv.ty };
      }
      const qv = this.load(q, exprText(e));
      if (qv.ty.k === "ptr" && pv.ty.k === "ptr") throw new CaptureError(`${exprText(e)} adds two pointers`);
      return { k: "val", slot: this.add(pv.slot, qv.slot, scale), ty: pv.ty.k === "ptr" ? pv.ty : qv.ty };
    }
    const r = this.eval(e);
    if (r.k === "num") throw new CaptureError(`${exprText(e)} is a number, not a pointer`);
    return this.load(r, exprText(e));
  }

  /** A scalar in memory into a fresh slot (zero-extended: the slot starts at 0); pointers NULL-checked. */
  private load(r: Loc | Val, what: string): Val {
    if (r.k === "val") return r;
    if (r.bit)
      throw new CaptureError(`${what} is a bitfield: it can be captured, but not used to reach other fields`);
    if (!isScalar(r.ty))
      throw new CaptureError(`${what} is ${describeTy(r.ty)}, not a pointer or an integer`);
    const slot = this.newSlot();
    this.read({ reg: R10, off: slot }, sizeOf(r.ty), r.base, r.off);
    if (r.ty.k === "ptr") this.nullCheck(slot);
    return { k: "val", slot, ty: r.ty };
  }

  private add(a: number, b: number, scale: number): number {
    const dst = this.newSlot();
    this.emit(asm.ldxMem(asm.DW, R0, R10, a), asm.ldxMem(asm.DW, R1, R10, b));
    if (scale !== 1) this.emit(asm.alu64Imm(asm.MUL, R1, scale));
    this.emit(asm.alu64Reg(asm.ADD, R0, R1), asm.stxMem(asm.DW, R10, R0, dst));
    if (this.kernelPointers.has(a) || this.kernelPointers.has(b)) this.kernelPointers.add(dst);
    return dst;
  }
}

/** The keys every JSON event already has: a capture must not write them twice. */
const RESERVED_LABELS = new Set(EVENT_JSON_KEYS);

/** Compiles `[LABEL=]EXPR[:FORMAT]` texts into one module and the layout its decoders read. */
export function compileCapture(texts: string[], env: CaptureEnv): CompiledCapture {
  if (texts.length === 0) throw new CaptureError("nothing to capture");
  const specs = texts.map((t) => {
    try {
      return parseSpec(t);
    } catch (e) {
      throw e instanceof CaptureError ? new CaptureError(`capture "${t.trim()}": ${e.message}`) : e;
    }
  });
  const labels = new Set<string>();
  /** A label to suggest for `s`: valid as `LABEL=`, not reserved, given to no capture. */
  const suggest = (s: CaptureSpec, suffix: string) => {
    const short = s.labelled ? s.label : defaultLabel(s.expr);
    const stem = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(short) ? short : "value";
    const ok = (l: string) => !RESERVED_LABELS.has(l) && !labels.has(l) && !specs.some((x) => x.label === l);
    if (ok(stem + suffix)) return stem + suffix;
    for (let n = 2; ; n++) if (ok(`${stem}${n}`)) return `${stem}${n}`;
  };
  for (const s of specs) {
    // A default label that is one of ipft's own keys (skb->dev->ifindex) becomes the longer path.
    if (RESERVED_LABELS.has(s.label) && !s.labelled) s.label = longLabel(s.expr);
    // A bare `skb` has no longer path (its label is json's skb key): it takes the first free label after it.
    if (RESERVED_LABELS.has(s.label) && !s.labelled) s.label = suggest(s, "_");
    if (RESERVED_LABELS.has(s.label))
      throw new CaptureError(
        `capture "${s.text}": "${s.label}" is one of ipft's own JSON keys; give it another label, e.g. ${suggest(s, "_")}=${s.body}`,
      );
    if (labels.has(s.label) && !s.labelled) s.label = longLabel(s.expr);
    if (labels.has(s.label))
      throw new CaptureError(
        `two captures are labelled "${s.label}": name one, e.g. ${suggest(s, "2")}=${s.body}`,
      );
    labels.add(s.label);
  }
  const bitmapBytes = Math.ceil(specs.length / 8);
  const c = new Compiler(env);
  const fields: CaptureField[] = [];
  let off = bitmapBytes;
  specs.forEach((s, i) => {
    let shape: FieldShape;
    try {
      shape = c.compileField(s, i, off);
    } catch (e) {
      if (e instanceof CaptureError && !e.message.startsWith(s.text))
        throw new CaptureError(`capture "${s.text}": ${e.message}`);
      throw e;
    }
    const decoding = chooseDecoding(env.btf, shape, s.format, `capture "${s.text}"`);
    fields.push({
      label: s.label,
      text: s.text,
      offset: off,
      size: shape.size,
      bit: i,
      type: describeTy(shape.ty),
      decoding,
    });
    off += shape.size;
  });
  if (off > USER_DATA_SIZE) {
    const parts = fields.map((f) => `${f.label} ${f.size}`).join(", ");
    throw new CaptureError(
      `the captures take ${off} bytes but a trace carries 64 (${bitmapBytes} for the null bitmap, ${parts}): capture fewer or smaller fields`,
    );
  }
  const insns = c.finish();
  return { fields, bitmapBytes, used: off, insns, bytes: encode(insns) };
}

/** One line per field: label, bytes, type and format (for --gen and error messages). */
export function describeLayout(cap: CompiledCapture): string[] {
  return [
    `capture layout: ${cap.used} of 64 bytes (byte 0${cap.bitmapBytes > 1 ? `..${cap.bitmapBytes - 1}` : ""}: which fields were read)`,
    ...cap.fields.map(
      (f) =>
        `  ${f.label}: ${f.size} byte${f.size > 1 ? "s" : ""} at ${f.offset}, ${f.type}, shown as ${f.decoding.fmt}`,
    ),
  ];
}
