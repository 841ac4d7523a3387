// ipft.capture{} for Lua scripts: a chunk that returns the module's bytes, a dump function decoding the
// 64 bytes the same way the CLI's decoder does (tested against it), and the layout. The dump function's
// table lists its keys in capture order (__pairs), and uses ipft.null for fields that could not be read.
import type { CompiledCapture } from "./compile.js";
import type { Decoding } from "./formats.js";

const HELPERS = String.raw`
local NULL = ...
local unpack, byte, fmt, sub, concat, find = string.unpack, string.byte, string.format, string.sub, table.concat, string.find
local function ip4(d, o) return fmt("%d.%d.%d.%d", byte(d, o, o + 3)) end
local function mac(d, o) return fmt("%02x:%02x:%02x:%02x:%02x:%02x", byte(d, o, o + 5)) end
local function hexb(d, o, n)
  local t = {}
  for i = 0, n - 1 do t[i + 1] = fmt("%02x", byte(d, o + i)) end
  return concat(t)
end
local function str(d, o, n)
  local s = sub(d, o, o + n - 1)
  local z = find(s, "\0", 1, true)
  if z then s = sub(s, 1, z - 1) end
  return (s:gsub("[%c\128-\255\\]", function(c) return fmt("\\x%02x", byte(c)) end))
end
local function ip6(d, o)
  local g = { unpack(">I2I2I2I2I2I2I2I2", d, o) }
  local best, bestLen, i = -1, 1, 1
  while i <= 8 do
    if g[i] ~= 0 then i = i + 1 else
      local j = i
      while j <= 8 and g[j] == 0 do j = j + 1 end
      if j - i > bestLen then best, bestLen = i, j - i end
      i = j
    end
  end
  local function part(a, b)
    local t = {}
    for k = a, b do t[#t + 1] = fmt("%x", g[k]) end
    return concat(t, ":")
  end
  if best < 0 then return part(1, 8) end
  return part(1, best - 1) .. "::" .. part(best + bestLen, 8)
end
local function flags(names, v)
  if v == 0 then return "0" end
  local t = {}
  for k = 1, #names, 2 do
    local bit = names[k + 1]
    if v & bit ~= 0 then t[#t + 1] = names[k]; v = v & ~bit end
  end
  if v ~= 0 then t[#t + 1] = fmt("0x%x", v) end
  return concat(t, "|")
end
local function enum(t, x) return t[x] or x end
local function dec(v, unsigned64)
  if unsigned64 and v < 0 then return fmt("%u", v) end
  return v
end
`;

function luaInt(v: bigint): string {
  const s = BigInt.asIntN(64, v);
  return s === -(1n << 63n) ? "math.mininteger" : s.toString();
}

function luaString(b: Uint8Array | string): string {
  const bytes = typeof b === "string" ? new TextEncoder().encode(b) : b;
  let s = '"';
  for (const c of bytes)
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c
        ? String.fromCharCode(c)
        : `\\x${c.toString(16).padStart(2, "0")}`;
  return `${s}"`;
}

/** Lua that turns the field at 1-based position `o` of `data` into its value. */
function luaValue(d: Decoding, o: number, tables: string[]): string {
  if (d.k === "bytes") {
    switch (d.fmt) {
      case "ip4":
        return `ip4(data, ${o})`;
      case "ip6":
        return `ip6(data, ${o})`;
      case "mac":
        return `mac(data, ${o})`;
      case "hex":
        return `hexb(data, ${o}, ${d.size})`;
      case "str":
        return `str(data, ${o}, ${d.size})`;
    }
  }
  // Read unsigned, then cut the bitfield out and fix the sign (as the JS decoder does).
  let v = d.size <= 8 ? `unpack("${d.be ? ">" : "<"}I${d.size}", data, ${o})` : "0";
  if (d.shift > 0) v = `(${v} >> ${d.shift})`;
  if (d.bits < 64) v = `(${v} & ${luaInt((1n << BigInt(d.bits)) - 1n)})`;
  const u = v;
  const signed =
    d.signed && d.bits < 64
      ? `((${u} ~ ${luaInt(1n << BigInt(d.bits - 1))}) - ${luaInt(1n << BigInt(d.bits - 1))})`
      : u;
  switch (d.fmt) {
    case "dec":
      return d.signed ? signed : `dec(${u}, ${d.bits === 64 ? "true" : "false"})`;
    case "hex":
      return `fmt("0x%x", ${u})`;
    case "bool":
      return `(${u} ~= 0)`;
    case "enum": {
      const seen = new Set<bigint>();
      const entries: string[] = [];
      for (const [n, val] of d.names!) {
        if (seen.has(val)) continue;
        seen.add(val);
        entries.push(`[${luaInt(val)}]=${luaString(n)}`);
      }
      tables.push(`{${entries.join(",")}}`);
      const t = `T${tables.length}`;
      return `enum(${t}, ${d.signed ? signed : u})`;
    }
    case "flags": {
      const entries: string[] = [];
      for (const [n, val] of d.names!)
        if (val > 0n && (val & (val - 1n)) === 0n) entries.push(`${luaString(n)},${luaInt(val)}`);
      tables.push(`{${entries.join(",")}}`);
      return `flags(T${tables.length}, ${u})`;
    }
  }
}

export function luaCaptureChunk(cap: CompiledCapture): string {
  const tables: string[] = [];
  const lines: string[] = [];
  for (const f of cap.fields) {
    const test = `byte(data, ${(f.bit >> 3) + 1}) & ${1 << (f.bit & 7)} ~= 0`;
    lines.push(
      `  if ${test} then t[${luaString(f.label)}] = ${luaValue(f.decoding, f.offset + 1, tables)} else t[${luaString(f.label)}] = NULL end`,
    );
  }
  const keys = cap.fields.map((f) => luaString(f.label)).join(", ");
  const layout = cap.fields
    .map(
      (f) =>
        `{ label = ${luaString(f.label)}, offset = ${f.offset}, size = ${f.size}, type = ${luaString(f.type)}, format = ${luaString(f.decoding.fmt)} }`,
    )
    .join(",\n  ");
  return `${HELPERS}
${tables.map((t, i) => `local T${i + 1} = ${t}`).join("\n")}
local keys = { ${keys} }
local mt = { __pairs = function(t)
  local i = 0
  return function() i = i + 1; local k = keys[i]; if k ~= nil then return k, t[k] end end, t, nil
end }
local function decode(data)
  if type(data) ~= "string" or #data < ${cap.used} then error("capture decoder: expected the 64 bytes dump() receives", 2) end
  local t = setmetatable({}, mt)
${lines.join("\n")}
  return t
end
return ${luaString(cap.bytes)}, decode, {
  ${layout}
}
`;
}
