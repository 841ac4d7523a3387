// A user's Lua 5.3 script with ipftrace2's hooks: init() before tracing, emit() returning the eBPF module,
// dump(data) turning each trace's 64 bytes into text (or a table of key/values), fini() at the end.
import { readFileSync } from "node:fs";
import type { CompiledCapture } from "../capture/compile.js";
import { luaCaptureChunk } from "../capture/lua-decoder.js";
import { UserError } from "../core/errors.js";
import type { DumpFormat } from "../output/types.js";
import { LUA_TFUNCTION, LuaState, type LuaValue } from "../sys/lua.js";
import { keyRanks } from "./key-order.js";
import { PRELUDE } from "./prelude.js";

export interface BtfQueries {
  offsetof(t: string, m: string): number;
  sizeof(t: string): number;
  typeof(t: string, m: string): string;
}

export interface ScriptEnv {
  btf: BtfQueries;
  /** ipft.capture{}: compiles capture texts for this kernel (absent: ipft.capture reports it). */
  capture?: (texts: string[]) => CompiledCapture;
  /** Helper name without the bpf_ prefix -> id. */
  helpers: Map<string, number>;
}

/** A Lua error; `detail` holds its traceback. */
export class ScriptError extends UserError {}

export type DumpValue = string | Record<string, string | number | boolean>;

type Hook = "init" | "emit" | "dump" | "fini";

/** Splits Lua's "msg\nstack traceback:..." into the message line and the traceback. */
function splitTrace(s: string): [string, string | undefined] {
  const i = s.indexOf("\nstack traceback:");
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

export class Script {
  readonly hooks: Record<Hook, boolean>;
  private readonly lua: LuaState;
  private readonly hookRef: number;
  private readonly dumpRef: number;
  private readonly dumpManyRef: number;
  private manyBuf = new Uint8Array(0);

  static load(path: string, env: ScriptEnv): Script {
    let code: Buffer;
    try {
      code = readFileSync(path);
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      throw new ScriptError(
        c === "ENOENT"
          ? `script ${path} does not exist`
          : c === "EISDIR"
            ? `script ${path} is a directory`
            : `cannot read script ${path}: ${c}`,
      );
    }
    return new Script(code, path, env);
  }

  private constructor(code: Uint8Array, path: string, env: ScriptEnv) {
    this.lua = new LuaState();
    try {
      this.lua.setGlobalTable("__ipft_helpers", env.helpers);
      // The order of dump()'s keys comes from the script's text (see key-order.ts).
      const keys = keyRanks(Buffer.from(code.buffer, code.byteOffset, code.byteLength).toString("utf8"));
      this.lua.setGlobalTable("__ipft_key_rank", keys.ranks);
      this.lua.setGlobalStrings("__ipft_key_shapes", keys.shapes);
      this.lua.register("__ipft_native", (args) => {
        const [what, a, b] = args;
        const need = (v: string | null | undefined, name: string) => {
          if (typeof v !== "string") throw new Error(`ipft.${what}: ${name} must be a string`);
          return v;
        };
        if (what === "offsetof")
          return [true, env.btf.offsetof(need(a, "type name"), need(b, "member name"))];
        if (what === "sizeof") return [true, env.btf.sizeof(need(a, "type name"))];
        if (what === "typeof") return [true, env.btf.typeof(need(a, "type name"), need(b, "member name"))];
        if (what === "capture") {
          if (!env.capture) return [false, "ipft.capture is not available here"];
          return [true, luaCaptureChunk(env.capture(need(a, "capture list").split("\0")))];
        }
        return [false, `unknown query ${what}`];
      });
      const pre = this.lua.run(Buffer.from(PRELUDE), "=ipft prelude");
      if (pre) throw new ScriptError(`internal error in the Lua prelude: ${pre}`);
      // "@path" makes Lua name the file in messages: "path:12: ...".
      const err = this.lua.run(code, `@${path}`);
      if (err) {
        const [msg, tb] = splitTrace(err);
        throw new ScriptError(`script ${msg}`, tb);
      }
      this.hooks = {
        init: this.lua.globalType("init") === LUA_TFUNCTION,
        emit: this.lua.globalType("emit") === LUA_TFUNCTION,
        dump: this.lua.globalType("dump") === LUA_TFUNCTION,
        fini: this.lua.globalType("fini") === LUA_TFUNCTION,
      };
      this.hookRef = this.lua.refGlobal("__ipft_hook")!;
      this.dumpRef = this.lua.refGlobal("__ipft_dump_value")!;
      this.dumpManyRef = this.lua.refGlobal("__ipft_dump_many")!;
    } catch (e) {
      this.lua.close();
      throw e;
    }
  }

  private callHook(name: Hook): Uint8Array {
    const [ok, v] = this.lua.call(this.hookRef, [Buffer.from(name)], 2);
    if (ok !== true) {
      const [msg, tb] = splitTrace(text(v));
      throw new ScriptError(`${name}() failed: ${msg}`, tb);
    }
    return v as Uint8Array;
  }

  init(): void {
    if (this.hooks.init) this.callHook("init");
  }

  /** The module's bytecode; empty when the script has no emit(). */
  emit(): Uint8Array {
    return this.hooks.emit ? this.callHook("emit") : new Uint8Array(0);
  }

  fini(): void {
    if (this.hooks.fini) this.callHook("fini");
  }

  /** dump(data) as a value: its string, or its table (keys in the order docs/scripting.md gives, but a JS
   * object lists integer-like keys first; an integer beyond 2^53 as its exact decimal text). "" when the
   * script has no dump() or it returns nil. */
  dump(data: Uint8Array): DumpValue {
    const bytes = this.lua.callBytesView(this.dumpRef, data);
    return decodeDump(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** dump() of one record, formatted for output: "text" (`( k: v )`, or the string) or "json" (a
   * `,"k":v` fragment; a string result goes under "data"). Throws ScriptError if dump() fails. */
  dumpFormatted(data: Uint8Array, format: DumpFormat): string {
    const r = this.dumpFormattedMany(data, format)[0];
    if (r instanceof ScriptError) throw r;
    return r ?? "";
  }

  /** The same for records of 64 bytes laid end to end, in one crossing into Lua; a failed record
   * yields its ScriptError in its place. */
  dumpFormattedMany(records: Uint8Array, format: DumpFormat): (string | ScriptError)[] {
    if (this.manyBuf.length < records.length + 1) this.manyBuf = new Uint8Array(records.length + 1);
    const arg = this.manyBuf.subarray(0, records.length + 1);
    arg[0] = format === "json" ? 0x6a : 0x74;
    arg.set(records, 1);
    const bytes = this.lua.callBytesView(this.dumpManyRef, arg);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: (string | ScriptError)[] = [];
    for (let p = 0; p < buf.length; ) {
      const n = buf.readUInt32LE(p);
      const text = buf.toString("utf8", p + 5, p + 4 + n);
      if (buf[p + 4] === 0x73 /* s */) out.push(text);
      else {
        const [msg, tb] = splitTrace(text);
        out.push(new ScriptError(`dump() failed: ${msg}`, tb));
      }
      p += 4 + n;
    }
    return out;
  }

  close(): void {
    this.lua.close();
  }
}

/** A Lua string as text (UTF-8); other scalars as Lua prints them. */
function text(v: LuaValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("utf8");
  if (v === null) return "nil";
  return typeof v === "object" ? "table" : String(v);
}

/** Decodes __ipft_dump_value's string (see the prelude). */
function decodeDump(buf: Buffer): DumpValue {
  const kind = buf[0];
  if (kind === 0x73 /* s */) return buf.toString("utf8", 1);
  if (kind === 0x65 /* e */) {
    const [msg, tb] = splitTrace(buf.toString("utf8", 1));
    throw new ScriptError(`dump() failed: ${msg}`, tb);
  }
  const out: Record<string, string | number | boolean> = {};
  for (let p = 1; p < buf.length; ) {
    const kn = buf.readUInt32LE(p);
    const key = buf.toString("utf8", p + 4, p + 4 + kn);
    p += 4 + kn;
    const vn = buf.readUInt32LE(p);
    const tag = buf[p + 4];
    const v = buf.toString("utf8", p + 5, p + 4 + vn);
    p += 4 + vn;
    out[key] =
      tag === 0x69 /* i */ ? integer(v) : tag === 0x66 /* f */ ? float(v) : tag === 0x62 ? v === "true" : v;
  }
  return out;
}

/** A Lua integer: a number when exact, else its decimal text. */
function integer(s: string): number | string {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/** A float printed by %.17g (which spells infinities and NaN the C way). */
function float(s: string): number {
  if (s === "inf") return Number.POSITIVE_INFINITY;
  if (s === "-inf") return Number.NEGATIVE_INFINITY;
  return s.endsWith("nan") ? Number.NaN : Number(s);
}
