// Lua 5.3 (Debian's liblua5.3-0) through the FFI. Strings cross as bytes, never re-encoded. Only what
// ipft's script runtime needs; the rest is done in Lua itself (see src/script/prelude.ts).
import koffi, { type LibraryHandle, type TypeObject } from "koffi";

export const LUA_OK = 0;
export const LUA_REGISTRYINDEX = -1001000;

let lib: LibraryHandle | undefined;
let api: ReturnType<typeof bind> | undefined;

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
    tointegerx: l.func("int64_t lua_tointegerx(void *L, int idx, void *isnum)"),
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
function load(): ReturnType<typeof bind> {
  if (api) return api;
  try {
    lib = koffi.load("liblua5.3.so.0");
  } catch {
    throw new Error("liblua5.3.so.0 not found: install Debian's liblua5.3-0 (apt-get install liblua5.3-0)");
  }
  api = bind(lib);
  return api;
}

/** Signature of a C function Lua can call: int f(lua_State *L). */
let cfunctionType: TypeObject | undefined;

export type LuaValue = string | number | boolean | null;

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

  /** Loads and runs a chunk; returns an error message or undefined. */
  run(code: Uint8Array, chunkName: string): string | undefined {
    const a = this.api;
    const top = a.gettop(this.L) as number;
    let r = a.loadbufferx(this.L, code, code.length, chunkName, "t") as number;
    if (r === LUA_OK) r = a.pcallk(this.L, 0, 0, 0, 0, null) as number;
    const msg = r === LUA_OK ? undefined : (this.toText(-1) ?? `Lua error ${r}`);
    a.settop(this.L, top);
    return msg;
  }

  /** A reference to global `name` (for fast repeated calls), or undefined if it is not a function. */
  refGlobal(name: string): number | undefined {
    const a = this.api;
    if ((a.getglobal(this.L, name) as number) !== 6 /* LUA_TFUNCTION */) {
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

  /** Calls a referenced function with byte-string or integer arguments; returns its results as raw values:
   * strings as bytes. Errors from Lua come back as a thrown Error with Lua's message. */
  call(
    ref: number,
    args: (Uint8Array | number)[],
    nresults: number,
  ): (Uint8Array | boolean | number | null)[] {
    const a = this.api;
    const top = a.gettop(this.L) as number;
    a.rawgeti(this.L, LUA_REGISTRYINDEX, ref);
    for (const x of args) {
      if (typeof x === "number") a.pushinteger(this.L, x);
      else a.pushlstring(this.L, x, x.length);
    }
    const r = a.pcallk(this.L, args.length, nresults, 0, 0, null) as number;
    if (r !== LUA_OK) {
      const msg = this.toText(-1) ?? `Lua error ${r}`;
      a.settop(this.L, top);
      throw new Error(msg);
    }
    const out: (Uint8Array | boolean | number | null)[] = [];
    for (let i = 1; i <= nresults; i++) {
      const idx = top + i;
      const t = a.type(this.L, idx) as number;
      if (t === 1) out.push((a.toboolean(this.L, idx) as number) !== 0);
      else if (t === 4) out.push(this.toBytes(idx)!);
      else if (t === 3) out.push(Number(a.tointegerx(this.L, idx, null)));
      else out.push(null);
    }
    a.settop(this.L, top);
    return out;
  }

  /**
   * The hot path (one call per trace): calls a referenced function with one byte-string argument and
   * returns its single string result, copied. Five FFI calls; the stack is left empty.
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
   * Makes `fn` callable from Lua as global `name`. It receives the call's arguments as strings (nil as null)
   * and returns [ok, value]: Lua gets two results and a Lua-side wrapper raises on failure, so no Lua error
   * ever unwinds through the FFI.
   */
  register(name: string, fn: (args: (string | null)[]) => [boolean, string | number]): void {
    const a = this.api;
    cfunctionType ??= koffi.proto("int ipft_lua_CFunction(void *L)");
    const cb = koffi.register((L: unknown) => {
      const n = a.gettop(L) as number;
      const args: (string | null)[] = [];
      for (let i = 1; i <= n; i++) {
        const p = a.tolstring(L, i, this.lenOut) as bigint | null;
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
    }, koffi.pointer(cfunctionType));
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
