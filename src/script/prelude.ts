// Lua code run in every script's state before the script: the BPF macro assembler (ipftrace2's names,
// argument orders and encodings), the ipft table, and the wrappers ipft calls hooks through.
// Instructions are packed as code u8, (src << 4 | dst) u8, off i16, imm i32, little endian.
export const PRELUDE = `
local pack = string.pack
-- Raises msg at the user's line: the first caller outside this prelude (tail calls make levels unreliable).
local function fail(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= "=ipft prelude" and info.currentline and info.currentline > 0 then
      error(string.format("%s:%d: %s", info.short_src, info.currentline, msg), 0)
    end
    level = level + 1
  end
  error(msg, 0)
end
BPF = {}
for r = 0, 10 do BPF["R" .. r] = r end

BPF.LD, BPF.LDX, BPF.ST, BPF.STX, BPF.ALU, BPF.JMP = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05
BPF.RET, BPF.MISC, BPF.JMP32, BPF.ALU64 = 0x06, 0x07, 0x06, 0x07
BPF.W, BPF.H, BPF.B, BPF.DW, BPF.XADD = 0x00, 0x08, 0x10, 0x18, 0xc0
BPF.IMM, BPF.ABS, BPF.IND, BPF.MEM, BPF.LEN, BPF.MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xa0
BPF.ADD, BPF.SUB, BPF.MUL, BPF.DIV, BPF.OR, BPF.AND, BPF.LSH = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60
BPF.RSH, BPF.NEG, BPF.MOD, BPF.XOR, BPF.MOV, BPF.ARSH = 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0
BPF.JA, BPF.JEQ, BPF.JGT, BPF.JGE, BPF.JSET, BPF.JNE = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
BPF.JSGT, BPF.JSGE, BPF.CALL, BPF.EXIT, BPF.JLT, BPF.JLE, BPF.JSLT, BPF.JSLE = 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0
BPF.END, BPF.TO_LE, BPF.TO_BE = 0xd0, 0x00, 0x08
BPF.FROM_LE, BPF.FROM_BE = BPF.TO_LE, BPF.TO_BE
BPF.K, BPF.X = 0x00, 0x08

function BPF.CLASS(code) return code & 0x07 end
function BPF.SIZE(code) return code & 0x18 end
function BPF.MODE(code) return code & 0xe0 end
function BPF.OP(code) return code & 0xf0 end
function BPF.SRC(code) return code & 0x08 end

local function int(macro, what, v)
  if math.type(v) ~= "integer" then
    fail(string.format("BPF.%s: %s must be an integer, got %s", macro, what, v == nil and "nil" or tostring(v)))
  end
  return v
end

local function reg(macro, what, v)
  int(macro, what, v)
  if v < 0 or v > 10 then fail(string.format("BPF.%s: %s register %d is not R0..R10", macro, what, v)) end
  return v
end

-- One instruction. imm may be given as signed or unsigned 32 bits (masks like 0xffffffff are common).
local function insn(macro, code, dst, src, off, imm)
  int(macro, "opcode", code)
  if code < 0 or code > 0xff then fail(string.format("BPF.%s: opcode %d does not fit in 8 bits", macro, code)) end
  reg(macro, "dst", dst)
  reg(macro, "src", src)
  int(macro, "offset", off)
  if off < -0x8000 or off > 0x7fff then fail(string.format("BPF.%s: offset %d does not fit in 16 bits", macro, off)) end
  int(macro, "immediate", imm)
  if imm < -0x80000000 or imm > 0xffffffff then fail(string.format("BPF.%s: immediate %d does not fit in 32 bits", macro, imm)) end
  if imm > 0x7fffffff then imm = imm - 0x100000000 end
  return pack("<BBi2i4", code, (src << 4) | dst, off, imm)
end

function BPF.ALU64_REG(op, dst, src) return insn("ALU64_REG", BPF.ALU64 | BPF.OP(op) | BPF.X, dst, src, 0, 0) end
function BPF.ALU32_REG(op, dst, src) return insn("ALU32_REG", BPF.ALU | BPF.OP(op) | BPF.X, dst, src, 0, 0) end
function BPF.ALU64_IMM(op, dst, imm) return insn("ALU64_IMM", BPF.ALU64 | BPF.OP(op) | BPF.K, dst, 0, 0, imm) end
function BPF.ALU32_IMM(op, dst, imm) return insn("ALU32_IMM", BPF.ALU | BPF.OP(op) | BPF.K, dst, 0, 0, imm) end
function BPF.ENDIAN(t, dst, len) return insn("ENDIAN", BPF.ALU | BPF.END | BPF.SRC(t), dst, 0, 0, len) end
function BPF.MOV64_REG(dst, src) return insn("MOV64_REG", BPF.ALU64 | BPF.MOV | BPF.X, dst, src, 0, 0) end
function BPF.MOV32_REG(dst, src) return insn("MOV32_REG", BPF.ALU | BPF.MOV | BPF.X, dst, src, 0, 0) end
function BPF.MOV64_IMM(dst, imm) return insn("MOV64_IMM", BPF.ALU64 | BPF.MOV | BPF.K, dst, 0, 0, imm) end
function BPF.MOV_IMM(dst, imm) return insn("MOV_IMM", BPF.ALU | BPF.MOV | BPF.K, dst, 0, 0, imm) end
function BPF.LD_IMM64(dst, imm)
  int("LD_IMM64", "immediate", imm)
  local lo, hi = imm & 0xffffffff, (imm >> 32) & 0xffffffff
  return insn("LD_IMM64", BPF.LD | BPF.DW | BPF.IMM, dst, 0, 0, lo) .. insn("LD_IMM64", 0, 0, 0, 0, hi)
end
function BPF.LDX_MEM(size, dst, src, off) return insn("LDX_MEM", BPF.LDX | BPF.SIZE(size) | BPF.MEM, dst, src, off, 0) end
function BPF.STX_MEM(size, dst, src, off) return insn("STX_MEM", BPF.STX | BPF.SIZE(size) | BPF.MEM, dst, src, off, 0) end
function BPF.STX_XADD(size, dst, src, off) return insn("STX_XADD", BPF.STX | BPF.SIZE(size) | BPF.XADD, dst, src, off, 0) end
function BPF.ST_MEM(size, dst, off, imm) return insn("ST_MEM", BPF.ST | BPF.SIZE(size) | BPF.MEM, dst, 0, off, imm) end
function BPF.JMP_REG(op, dst, src, off) return insn("JMP_REG", BPF.JMP | BPF.OP(op) | BPF.X, dst, src, off, 0) end
function BPF.JMP_IMM(op, dst, imm, off) return insn("JMP_IMM", BPF.JMP | BPF.OP(op) | BPF.K, dst, 0, off, imm) end
function BPF.JMP32_REG(op, dst, src, off) return insn("JMP32_REG", BPF.JMP32 | BPF.OP(op) | BPF.X, dst, src, off, 0) end
function BPF.JMP32_IMM(op, dst, imm, off) return insn("JMP32_IMM", BPF.JMP32 | BPF.OP(op) | BPF.K, dst, 0, off, imm) end
function BPF.JMP_A(off) return insn("JMP_A", BPF.JMP | BPF.JA, 0, 0, off, 0) end
function BPF.CALL_INSN(id) return insn("CALL_INSN", BPF.JMP | BPF.CALL, 0, 0, 0, id) end
function BPF.EXIT_INSN() return insn("EXIT_INSN", BPF.JMP | BPF.EXIT, 0, 0, 0, 0) end
function BPF.RAW_INSN(code, dst, src, off, imm) return insn("RAW_INSN", code, dst, src, off, imm) end
function BPF.emit(list)
  for i = 1, #list do
    if type(list[i]) ~= "string" then fail(string.format("BPF.emit: element %d is a %s, not an instruction string", i, type(list[i]))) end
  end
  return table.concat(list)
end

-- The running kernel's helpers (enum bpf_func_id without BPF_FUNC_), set by ipft before this runs.
BPF.FUNC = __ipft_helpers or {}
__ipft_helpers = nil
BPF.FUNC.ktime_getns = BPF.FUNC.ktime_getns or BPF.FUNC.ktime_get_ns
do
  local native = __ipft_native
  ipft = {}
  local function query(what, ...)
    local ok, v = native(what, ...)
    if not ok then fail(v) end
    return v
  end
  function ipft.offsetof(t, m) return query("offsetof", t, m) end
  function ipft.sizeof(t) return query("sizeof", t) end
  function ipft.typeof(t, m) return query("typeof", t, m) end
  -- A field the capture decoder could not read (a NULL pointer on the way): prints as null.
  ipft.null = setmetatable({}, { __tostring = function() return "null" end, __name = "ipft.null" })
  -- ipft.capture{ "skb->len", "dev=skb->dev->name", ... } -> module bytes, dump function, layout.
  function ipft.capture(list)
    if type(list) ~= "table" then fail('ipft.capture: pass a table of capture strings, e.g. ipft.capture{ "skb->len" }') end
    if #list == 0 then fail("ipft.capture: nothing to capture (the table is empty)") end
    for i = 1, #list do
      if type(list[i]) ~= "string" then fail(string.format("ipft.capture: element %d is a %s, not a string", i, type(list[i]))) end
    end
    local src = query("capture", table.concat(list, "\\0"))
    local chunk, err = load(src, "=ipft capture", "t")
    if not chunk then fail("ipft.capture: internal error: " .. err) end
    return chunk(ipft.null)
  end
end
__ipft_native = nil

-- Hooks are called through these: errors come back as values with a traceback, never as raised errors.
local function traceback(m) return debug.traceback(tostring(m), 2) end
function __ipft_hook(name)
  local ok, r = xpcall(_G[name], traceback)
  if not ok then return false, r end
  if name == "emit" then
    if type(r) ~= "string" then return false, "emit() must return a string of eBPF bytecode, got " .. type(r) end
    return true, r
  end
  return true, ""
end
local concat, mtype, tostr, sub, fmt = table.concat, math.type, tostring, string.sub, string.format
local out = {}
-- JSON pieces.
local BS, QUOTE = string.char(92), string.char(34)
local jesc = { [QUOTE] = BS .. QUOTE, [BS] = BS .. BS, [string.char(10)] = BS .. "n", [string.char(13)] = BS .. "r", [string.char(9)] = BS .. "t" }
local jpattern = "[%c%" .. QUOTE .. "%" .. BS .. "]"
local function jstr(s)
  return QUOTE .. (s:gsub(jpattern, function(c) return jesc[c] or fmt(BS .. "u%04x", c:byte()) end)) .. QUOTE
end
local NULL = ipft.null
local function jval(v)
  if v == NULL then return "null" end
  local t = mtype(v) or type(v)
  if t == "integer" or t == "boolean" then return tostr(v) end
  if t == "float" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return fmt("%.17g", v)
  end
  return jstr(tostr(v))
end
-- A value for Script.dump: type-tagged, floats with 17 digits and integers as Lua prints them, so nothing
-- is rounded on the way.
local tags = { integer = "i", float = "f", boolean = "b" }
local function tagged(v)
  local tag = tags[mtype(v) or type(v)] or "s"
  return pack("<s4", tag == "f" and fmt("f%.17g", v) or tag .. tostr(v))
end

-- The order of a dump table's keys (docs/scripting.md). A table whose __pairs gives its own iterator (the
-- capture decoder's) goes in that order. A table with exactly the keys of one of the script's constructors
-- goes in that constructor's order. Any other: first the keys the script's text writes by name, in order
-- of first appearance (ranks from src/script/key-order.ts), then numbers ascending, then the rest by their
-- text. A dump() returns tables of one shape again and again, so the last shape is kept: its keys in
-- next() order (ck), the place of each in the output (cp), their count (cn), and each key already written
-- out for the three formats (kt text, kj JSON, kv Script.dump). A record of that shape costs one next()
-- walk and no sort.
local rank = __ipft_key_rank or {}
__ipft_key_rank = nil
-- Constructors whose written order is not their keys' rank order: key set (in rank order, "\\n"-joined) ->
-- each key's place in the constructor.
local shapes = {}
for set, written in pairs(__ipft_key_shapes or {}) do
  local pos, i = {}, 0
  for k in string.gmatch(written, "[^\\n]+") do
    i = i + 1
    pos[k] = i
  end
  shapes[set] = pos
end
__ipft_key_shapes = nil
local UNRANKED = math.huge
local nxt = next
local TEXT, JSON, VALUE = 1, 2, 3
local ks, vs, nk, nv, idx = {}, {}, {}, {}, {}
local ck, cp, kt, kj, kv = {}, {}, {}, {}, {}
local cn = -1
local function before(a, b)
  local na, nb = mtype(a) ~= nil, mtype(b) ~= nil
  if na ~= nb then return na end
  if na then return a < b end
  return tostr(a) < tostr(b)
end
-- Sorts r's pairs into ks/vs (an insertion sort: a dump returns few keys) and keeps the shape when every
-- key is a string or a number. Returns the count.
local tmp = {}
local function learn(r)
  local n, plain, named = 0, true, true
  for k, v in nxt, r do
    n = n + 1
    nk[n], nv[n] = k, v
    local t = type(k)
    if t ~= "string" and t ~= "number" then plain = false end
    local rk = rank[k]
    if not rk then
      named, rk = false, UNRANKED
    end
    local i = n
    while i > 1 do
      local j = idx[i - 1]
      local pk = nk[j]
      local pr = rank[pk] or UNRANKED
      if pr < rk or (pr == rk and before(pk, k)) then break end
      idx[i] = j
      i = i - 1
    end
    idx[i] = n
  end
  if named and n > 1 then
    -- Exactly the keys of a constructor: in its order.
    for i = 1, n do tmp[i] = nk[idx[i]] end
    local pos = shapes[concat(tmp, "\\n", 1, n)]
    if pos then
      for i = 1, n do
        local j = idx[i]
        tmp[pos[nk[j]]] = j
      end
      for i = 1, n do idx[i] = tmp[i] end
    end
    for i = 1, n do tmp[i] = nil end
  end
  for i = 1, n do
    local j = idx[i]
    ks[i], vs[i] = nk[j], nv[j]
  end
  if plain then
    for i = 1, n do
      local j = idx[i]
      local k = tostr(nk[j])
      ck[j], cp[j], kt[j], kj[j], kv[j] = nk[j], i, k .. ": ", "," .. jstr(k) .. ":", pack("<s4", k)
    end
    ck[n + 1], cn = nil, n
  else
    ck[1], cn = nil, -1
  end
  for i = 1, n do nk[i], nv[i] = nil, nil end
  return n
end
-- Writes the pieces of r in the kept shape into out[base + 1 ..]; the count, or -1 if r has another shape.
local function known(r, mode, base)
  local n = 0
  if mode == TEXT then
    for k, v in nxt, r do
      n = n + 1
      if ck[n] ~= k then return -1 end
      out[base + cp[n]] = kt[n] .. tostr(v) .. " "
    end
  elseif mode == JSON then
    for k, v in nxt, r do
      n = n + 1
      if ck[n] ~= k then return -1 end
      out[base + cp[n]] = kj[n] .. jval(v)
    end
  else
    for k, v in nxt, r do
      n = n + 1
      if ck[n] ~= k then return -1 end
      out[base + cp[n]] = kv[n] .. tagged(v)
    end
  end
  return n == cn and n or -1
end
-- Writes the pieces of dump's table r, in order, into out[base + 1 ..]; returns their count.
local function pieces(r, mode, base)
  local f, s, c = pairs(r)
  local n
  if f == nxt and c == nil then
    n = known(s, mode, base)
    if n >= 0 then return n end
    n = learn(s)
  else
    n = 0
    for k, v in f, s, c do
      n = n + 1
      ks[n], vs[n] = k, v
    end
  end
  for i = 1, n do
    local k, v = tostr(ks[i]), vs[i]
    out[base + i] = mode == TEXT and (k .. ": " .. tostr(v) .. " ")
      or mode == JSON and ("," .. jstr(k) .. ":" .. jval(v))
      or (pack("<s4", k) .. tagged(v))
    ks[i], vs[i] = nil, nil
  end
  return n
end
-- dump's result as one string, for Script.dump (one crossing): "e" .. error, "s" .. text, or "t" and then
-- key / type-tagged value pairs, "<s4s4" packed, in the order above.
-- dump() and the reading of its table run under one xpcall, so a failing __tostring or __pairs costs only
-- its own record.
local function value(data)
  local r = dump(data)
  local t = type(r)
  if t == "string" then return "s" .. r end
  if t == "nil" then return "s" end
  if t ~= "table" then return "edump() must return a string or a table, got " .. t end
  return "t" .. concat(out, "", 1, pieces(r, VALUE, 0))
end
function __ipft_dump_value(data)
  if dump == nil then return "s" end
  local ok, r = xpcall(value, traceback, data)
  return ok and r or "e" .. tostr(r)
end
-- Formatted for output: text ("( k: v k2: v2 )", or the string as is) or a JSON fragment (',"k":v').
local function format(data, json)
  local r = dump(data)
  local t = type(r)
  if t == "nil" or r == "" then return "s" end
  if t == "string" then return json and ("s," .. '"data":' .. jstr(r)) or ("s" .. r) end
  if t ~= "table" then return "edump() must return a string or a table, got " .. t end
  if json then return "s" .. concat(out, "", 1, pieces(r, JSON, 0)) end
  local n = pieces(r, TEXT, 1)
  out[1] = "s( "
  out[n + 2] = ")"
  return concat(out, "", 1, n + 2)
end
local function formatted(data, json)
  if dump == nil then return "s" end
  local ok, r = xpcall(format, traceback, data, json)
  return ok and r or "e" .. tostr(r)
end
-- Many records (64 bytes each) after a format byte ("t" text, "j" json): 4-byte-length-prefixed results,
-- each "s" .. output or "e" .. error. One FFI crossing per batch.
local res = {}
function __ipft_dump_many(buf)
  local json = buf:byte(1) == 106
  local n = (#buf - 1) // 64
  for i = 1, n do res[i] = pack("<s4", formatted(sub(buf, i * 64 - 62, i * 64 + 1), json)) end
  for i = #res, n + 1, -1 do res[i] = nil end
  return concat(res, "", 1, n)
end
`;
