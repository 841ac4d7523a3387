// Lua 5.3 (Debian's liblua5.3-0) through the FFI. Strings cross as bytes, never re-encoded. Only what
// ipft's script runtime needs; the rest is done in Lua itself (see src/script/prelude.ts).
import koffi, { type LibraryHandle, type TypeObject } from "koffi";
import { UserError } from "../core/errors.js";

export const LUA_OK = 0;
export const LUA_REGISTRYINDEX = -1001000;

let lib: LibraryHandle | undefined;
let api: Api | undefined;

function bind(l: LibraryHandle) {
  return {
    newstate: l.func("void *luaL_newstate(void)"),
    openlibs: l.func("void luaL_openlibs(void *L)"),
    close: l.func("void lua_close(void *L)"),
    loadbufferx: l.func(
      "int luaL_loadbufferx(void *L, const uint8_t *buf, size_t sz, const char *name, const char *mode)",
    ),
    pcallk: l.func("int lua_pcallk(void *L, int nargs, int nresults, int msgh, intptr_t ctx, void *k)"),
    getglobal: l.func("int lua_getglobal(void *L, const char *name)"),
    setglobal: l.func("void lua_setglobal(void *L, const char *name)"),
    gettop: l.func("int lua_gettop(void *L)"),
    settop: l.func("void lua_settop(void *L, int idx)"),
    type: l.func("int lua_type(void *L, int idx)"),
    toboolean: l.func("int lua_toboolean(void *L, int idx)"),
    tolstring: l.func("void *lua_tolstring(void *L, int idx, _Out_ size_t *len)"),
    // Any value as text (pushes it), as tostring() would; for keys and odd values.
    tolstringMeta: l.func("void *luaL_tolstring(void *L, int idx, _Out_ size_t *len)"),
    tointegerx: l.func("int64_t lua_tointegerx(void *L, int idx, void *isnum)"),
    tonumberx: l.func("double lua_tonumberx(void *L, int idx, void *isnum)"),
    isinteger: l.func("int lua_isinteger(void *L, int idx)"),
    next: l.func("int lua_next(void *L, int idx)"),
    createtable: l.func("void lua_createtable(void *L, int narr, int nrec)"),
    setfield: l.func("void lua_setfield(void *L, int idx, const char *k)"),
    pushnumber: l.func("void lua_pushnumber(void *L, double n)"),
    // msg is passed as the pointer lua_tolstring gave, so its bytes are not re-encoded.
    traceback: l.func("void luaL_traceback(void *L, void *L1, void *msg, int level)"),
    pushlstring: l.func("void *lua_pushlstring(void *L, const uint8_t *s, size_t len)"),
    pushinteger: l.func("void lua_pushinteger(void *L, int64_t n)"),
    pushboolean: l.func("void lua_pushboolean(void *L, int b)"),
    pushnil: l.func("void lua_pushnil(void *L)"),
    pushcclosure: l.func("void lua_pushcclosure(void *L, void *fn, int n)"),
    rawgeti: l.func("int lua_rawgeti(void *L, int idx, int64_t n)"),
    ref: l.func("int luaL_ref(void *L, int t)"),
  };
}

/** The library, or a one-line reason it cannot be loaded. */
function load(): Api {
  if (api) return api;
  try {
    lib = koffi.load("liblua5.3.so.0");
  } catch {
    throw new UserError(
      "Lua scripts need liblua5.3.so.0, which cannot be loaded: install it (Debian: apt-get install liblua5.3-0)",
    );
  }
  api = bind(lib);
  return api;
}

// Copying a Lua string's bytes into a reused JS buffer is far cheaper than a fresh koffi view per call.
let memcpy: ((dst: Uint8Array, src: bigint, n: number) => unknown) | undefined;
function copier() {
  memcpy ??= koffi.load("libc.so.6").func("void *memcpy(void *dst, void *src, size_t n)") as (
    dst: Uint8Array,
    src: bigint,
    n: number,
  ) => unknown;
  return memcpy;
}

/** Signature of a C function Lua can call: int f(lua_State *L). */
let cfunctionType: TypeObject | undefined;
function cfunction(): TypeObject {
  cfunctionType ??= koffi.proto("int ipft_lua_CFunction(void *L)");
  return cfunctionType;
}

/**
 * The message handler for chunks run with run(): luaL_traceback appends the stack to the message. It
 * cannot raise, so it is safe to run as a JS callback. One slot, shared by every state, never released.
 */
let msghCallback: bigint | undefined;
function messageHandler(a: Api): bigint {
  const len = [0];
  msghCallback ??= koffi.register((L: unknown) => {
    const p = a.tolstring(L, 1, len) as bigint | null;
    if (p) a.traceback(L, L, p, 1);
    return 1;
  }, koffi.pointer(cfunction()));
  return msghCallback;
}

type Api = ReturnType<typeof bind>;

export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;

/** A Lua value read into JS: strings as bytes; integers beyond 2^53 as bigint; tables as key/value
 * pairs in Lua's traversal order (keys as text, nested tables as their tostring()). */
export type LuaValue =
  | null
  | boolean
  | number
  | bigint
  | Uint8Array
  | { table: [string, Exclude<LuaValue, { table: unknown }>][] };
type LuaScalar = Exclude<LuaValue, { table: unknown }>;

export class LuaState {
  private readonly L: unknown;
  private readonly api = load();
  private readonly lenOut = [0];
  private callbacks: bigint[] = [];
  private closed = false;

  constructor() {
    this.L = this.api.newstate();
    if (!this.L) throw new Error("luaL_newstate failed: out of memory");
    this.api.openlibs(this.L);
  }

  /** Loads and runs a chunk; returns an error message (with a traceback for run-time errors) or
   * undefined. */
  run(code: Uint8Array, chunkName: string): string | undefined {
    const a = this.api;
    const top = a.gettop(this.L) as number;
    a.pushcclosure(this.L, messageHandler(a), 0);
    let r = a.loadbufferx(this.L, code, code.length, chunkName, "t") as number;
    if (r === LUA_OK) r = a.pcallk(this.L, 0, 0, top + 1, 0, null) as number;
    const msg = r === LUA_OK ? undefined : (this.toText(-1) ?? `Lua error ${r}`);
    a.settop(this.L, top);
    return msg;
  }

  /** A reference to global `name` (for fast repeated calls), or undefined if it is not a function. */
  refGlobal(name: string): number | undefined {
    const a = this.api;
    if ((a.getglobal(this.L, name) as number) !== LUA_TFUNCTION) {
      a.settop(this.L, -2);
      return undefined;
    }
    return a.ref(this.L, LUA_REGISTRYINDEX) as number;
  }

  globalType(name: string): number {
    const a = this.api;
    const t = a.getglobal(this.L, name) as number;
    a.settop(this.L, -2);
    return t;
  }

  /** Sets global `name` to a table of string keys and integer values. */
  setGlobalTable(name: string, entries: Iterable<[string, number]>): void {
    const a = this.api;
    a.createtable(this.L, 0, 0);
    for (const [k, v] of entries) {
      a.pushinteger(this.L, v);
      a.setfield(this.L, -2, k);
    }
    a.setglobal(this.L, name);
  }

  /** Sets global `name` to a table of string keys and string values (UTF-8). */
  setGlobalStrings(name: string, entries: Iterable<[string, string]>): void {
    const a = this.api;
    a.createtable(this.L, 0, 0);
    for (const [k, v] of entries) {
      const b = Buffer.from(v, "utf8");
      a.pushlstring(this.L, b, b.length);
      a.setfield(this.L, -2, k);
    }
    a.setglobal(this.L, name);
  }

  /** Calls a referenced function with byte-string, integer or float arguments; returns its results.
   * Errors from Lua come back as a thrown Error with Lua's message. */
  call(ref: number, args: (Uint8Array | number)[], nresults: number): LuaValue[] {
    const a = this.api;
    const top = a.gettop(this.L) as number;
    a.rawgeti(this.L, LUA_REGISTRYINDEX, ref);
    for (const x of args) {
      if (typeof x !== "number") a.pushlstring(this.L, x, x.length);
      else if (Number.isInteger(x)) a.pushinteger(this.L, x);
      else a.pushnumber(this.L, x);
    }
    const r = a.pcallk(this.L, args.length, nresults, 0, 0, null) as number;
    if (r !== LUA_OK) {
      const msg = this.toText(-1) ?? `Lua error ${r}`;
      a.settop(this.L, top);
      throw new Error(msg);
    }
    const out: LuaValue[] = [];
    for (let i = 1; i <= nresults; i++) {
      const idx = top + i;
      out.push(a.type(this.L, idx) === LUA_TTABLE ? { table: this.entries(idx) } : this.scalar(idx));
    }
    a.settop(this.L, top);
    return out;
  }

  /** The value at idx, tables excluded (given as their tostring()). */
  private scalar(idx: number): LuaScalar {
    const a = this.api;
    switch (a.type(this.L, idx) as number) {
      case LUA_TNIL:
        return null;
      case LUA_TBOOLEAN:
        return (a.toboolean(this.L, idx) as number) !== 0;
      case LUA_TNUMBER:
        if ((a.isinteger(this.L, idx) as number) !== 0)
          return a.tointegerx(this.L, idx, null) as number | bigint;
        return a.tonumberx(this.L, idx, null) as number;
      case LUA_TSTRING:
        return this.toBytes(idx)!;
      default:
        return this.describe(idx);
    }
  }

  /** tostring() of the value at idx, as bytes. */
  private describe(idx: number): Uint8Array {
    const p = this.api.tolstringMeta(this.L, idx, this.lenOut) as bigint | null;
    const n = this.lenOut[0]!;
    const b = p && n > 0 ? new Uint8Array(koffi.view(p, n).slice(0)) : new Uint8Array(0);
    this.api.settop(this.L, -2);
    return b;
  }

  /** The pairs of the table at idx (an absolute index), in lua_next's order; keys as text. */
  private entries(idx: number): [string, LuaScalar][] {
    const a = this.api;
    const out: [string, LuaScalar][] = [];
    a.pushnil(this.L);
    while ((a.next(this.L, idx) as number) !== 0) {
      // Key at -2, value at -1. describe() pushes a copy's text, so the key itself is never converted in
      // place (which would derail lua_next).
      const key = Buffer.from(this.describe(-2)).toString("utf8");
      const v = a.type(this.L, -1) === LUA_TTABLE ? this.describe(-1) : this.scalar(-1);
      out.push([key, v]);
      a.settop(this.L, -2);
    }
    return out;
  }

  /**
   * The hot path (one call per batch of traces): calls a referenced function with one byte-string
   * argument and returns its single string result, copied. Five FFI calls; the stack is left empty.
   */
  callBytes(ref: number, arg: Uint8Array): Uint8Array {
    const a = this.api;
    a.rawgeti(this.L, LUA_REGISTRYINDEX, ref);
    a.pushlstring(this.L, arg, arg.length);
    const r = a.pcallk(this.L, 1, 1, 0, 0, null) as number;
    const out = this.toBytes(-1);
    a.settop(this.L, 0);
    if (r !== LUA_OK) throw new Error(out ? Buffer.from(out).toString("utf8") : `Lua error ${r}`);
    return out ?? new Uint8Array(0);
  }

  private outBuf = new Uint8Array(4096);
  private readonly memcpy = copier();

  /**
   * callBytes without allocating: the result is a view of a buffer this state reuses, valid until the
   * next call. The hot path for dump().
   */
  callBytesView(ref: number, arg: Uint8Array): Uint8Array {
    const a = this.api;
    a.rawgeti(this.L, LUA_REGISTRYINDEX, ref);
    a.pushlstring(this.L, arg, arg.length);
    const r = a.pcallk(this.L, 1, 1, 0, 0, null) as number;
    const p = a.tolstring(this.L, -1, this.lenOut) as bigint | null;
    const n = p ? this.lenOut[0]! : 0;
    if (n > this.outBuf.length) this.outBuf = new Uint8Array(Math.max(n, this.outBuf.length * 2));
    if (n > 0) this.memcpy(this.outBuf, p!, n);
    a.settop(this.L, 0);
    const out = this.outBuf.subarray(0, n);
    if (r !== LUA_OK) throw new Error(n > 0 ? Buffer.from(out).toString("utf8") : `Lua error ${r}`);
    return out;
  }

  /** Bytes of the string (or number) at idx, copied. */
  toBytes(idx: number): Uint8Array | undefined {
    const p = this.api.tolstring(this.L, idx, this.lenOut) as bigint | null;
    if (!p) return undefined;
    const n = this.lenOut[0]!;
    return n === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(p, n).slice(0));
  }

  toText(idx: number): string | undefined {
    const b = this.toBytes(idx);
    return b && Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
  }

  /**
   * Makes `fn` callable from Lua as global `name`. It receives the call's arguments as strings (nil as
   * null) and returns [ok, value]: Lua gets two results and a Lua-side wrapper raises on failure, so no Lua
   * error (a longjmp) ever unwinds through the FFI.
   */
  register(name: string, fn: (args: (string | null)[]) => [boolean, string | number]): void {
    const a = this.api;
    const cb = koffi.register((L: unknown) => {
      const n = a.gettop(L) as number;
      const args: (string | null)[] = [];
      for (let i = 1; i <= n; i++) {
        const p = a.type(L, i) === LUA_TSTRING ? (a.tolstring(L, i, this.lenOut) as bigint | null) : null;
        args.push(p ? Buffer.from(koffi.view(p, this.lenOut[0]!)).toString("latin1") : null);
      }
      let res: [boolean, string | number];
      try {
        res = fn(args);
      } catch (e) {
        res = [false, (e as Error).message];
      }
      a.pushboolean(L, res[0] ? 1 : 0);
      if (typeof res[1] === "number") a.pushinteger(L, res[1]);
      else {
        const b = Buffer.from(res[1], "latin1");
        a.pushlstring(L, b, b.length);
      }
      return 2;
    }, koffi.pointer(cfunction()));
    this.callbacks.push(cb);
    a.pushcclosure(this.L, cb, 0);
    a.setglobal(this.L, name);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.api.close(this.L);
    for (const cb of this.callbacks) koffi.unregister(cb);
    this.callbacks = [];
  }
}
