-- ipft.lua: Wireshark and tshark show the events of an `ipft -w` trace (trace file formats 2 and 3) as named,
-- filterable fields: ipft.function, ipft.drop_reason, ipft.device, ... (docs/pcapng.md, "Wireshark
-- plugin"). Install: copy or symlink this file into ~/.local/lib/wireshark/plugins/ (`ipft
-- --wireshark-plugin` prints where it is), or try it with `tshark -X lua_script:ipft.lua -r trace.pcapng`.
-- For Wireshark >= 3.6 (Lua 5.2 or 5.4: only integer arithmetic below 2^53, no string.unpack).
--
-- Why a file handler: Wireshark keeps a packet block's custom options but gives them to no dissector or
-- Lua function. So when a file is opened, the "ipft options" reader below reads the file once as ipft
-- wrote it (docs/pcapng.md: the blocks, ipft's event and names options, PEN 32473), keeps each event's
-- option per frame, and then says "not mine", so Wireshark's own pcapng reader reads the file as always
-- (interfaces, comments, packet bytes). The post-dissector "ipft" turns the kept option into fields.
-- Reading the whole file first needs a file that can be read twice: a pipe (`ipft -w - | tshark -r -`)
-- is left alone (its frames carry a note), as is any file over the size limit (the preference
-- ipft.max_scan_mb).

local PEN = 32473
local KIND_EVENT = 1
local KIND_NAMES = 2
-- Formats 2 and 3 differ only in epb_packetid: the skb's address in 2, the packet id (1, 2, 3...) in 3.
local FORMATS = { [2] = true, [3] = true }
local OPT_CUSTOM_BIN = 2989
local OPT_PACKETID = 5
local RECORD_HEAD = 64 -- the record's first 64 bytes (the module's 64 are not in the file)
local DEVICE_SIZE = 24
local FLAG_RETURN, FLAG_CLONE, FLAG_FREEING, FLAG_DEVICE = 1, 2, 4, 8
local TWO32 = 4294967296

local ipft = Proto("ipft", "ipft trace event")
local f = ipft.fields
local VERDICTS = { [0] = "none", [1] = "dropped", [2] = "consumed" }
f.func = ProtoField.string("ipft.function", "Function")
f.module = ProtoField.string("ipft.module", "Module")
f.verdict = ProtoField.uint32("ipft.verdict", "Verdict", base.DEC, VERDICTS)
f.reason = ProtoField.string("ipft.drop_reason", "Drop reason")
f.reason_code = ProtoField.uint32("ipft.drop_reason_code", "Drop reason code")
f.location = ProtoField.string("ipft.location", "Location")
f.location_addr = ProtoField.uint64("ipft.location_addr", "Location address", base.HEX)
-- A drop's explanation: the text after its place in the event's comment (the stream line), as ipft wrote it.
f.explanation = ProtoField.string("ipft.explanation", "Explanation")
f.skb = ProtoField.uint64("ipft.skb", "skb address", base.HEX)
f.packet_id = ProtoField.uint64("ipft.packet_id", "Packet id (epb_packetid)", base.DEC)
f.track = ProtoField.uint64("ipft.track_id", "Track id")
f.parent = ProtoField.uint64("ipft.parent", "Parent skb (clone)", base.HEX)
f.device = ProtoField.string("ipft.device", "Device")
f.ifindex = ProtoField.uint32("ipft.ifindex", "Interface index")
f.netns = ProtoField.uint32("ipft.netns", "Network namespace inode")
f.netns_name = ProtoField.string("ipft.netns_name", "Network namespace")
f.since_first = ProtoField.relative_time("ipft.since_first", "Time since the packet's first event")
f.first_frame = ProtoField.framenum("ipft.first_frame", "The packet's first event")
f.identity = ProtoField.string("ipft.identity", "Packet identity")
f.timestamp = ProtoField.uint64("ipft.timestamp", "Timestamp (monotonic ns)")
f.cpu = ProtoField.uint32("ipft.cpu", "CPU")
f.flags = ProtoField.uint32("ipft.flags", "Flags", base.HEX)
f.is_return = ProtoField.bool("ipft.is_return", "Function return")
f.stack = ProtoField.string("ipft.stack", "Stack frame")
f.text = ProtoField.string("ipft.text", "Script text")

-- The namespace's name is in the event's interface description (netns INODE "NAME" ...), written once per
-- interface; a Wireshark without the field leaves it out.
local ok_ifdesc, ifdesc_field = pcall(Field.new, "frame.interface_description")
if not ok_ifdesc then ifdesc_field = nil end
local ok_comment, comment_field = pcall(Field.new, "frame.comment")
if not ok_comment then comment_field = nil end

local ei_format = ProtoExpert.new("ipft.format", "ipft trace file format", expert.group.PROTOCOL, expert.severity.NOTE)
local ei_damaged = ProtoExpert.new("ipft.damaged", "ipft option damaged", expert.group.MALFORMED, expert.severity.WARN)
local ei_unread = ProtoExpert.new("ipft.unread", "ipft options not read", expert.group.PROTOCOL, expert.severity.NOTE)
ipft.experts = { ei_format, ei_damaged, ei_unread }

ipft.prefs.max_scan_mb = Pref.uint("Largest file read for ipft's options (MB)", 2048,
  "Files larger than this are not read a second time for ipft's options")

-- ---------------------------------------------------------------------------------------- bytes

local byte, sub, fmt = string.byte, string.sub, string.format

local function u16(s, i, le)
  local a, b = byte(s, i, i + 1)
  if le then return a + b * 256 end
  return a * 256 + b
end

local function u32(s, i, le)
  local a, b, c, d = byte(s, i, i + 3)
  if le then return a + b * 256 + c * 65536 + d * 16777216 end
  return d + c * 256 + b * 65536 + a * 16777216
end

-- A little-endian u64 at i as lowercase hex without leading zeros, as ipft's names option writes it.
local function hex64(s, i)
  local h = fmt("%08x%08x", u32(s, i + 4, true), u32(s, i, true)):gsub("^0+", "")
  return "0x" .. (h == "" and "0" or h)
end

-- ------------------------------------------------------------------------------------------ JSON

-- Enough JSON for the names option (objects, arrays, strings, numbers); errors on anything else.
local function json_decode(s)
  local pos = 1
  local value
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function fail() error("bad JSON at " .. pos, 0) end
  local function utf8(c)
    if c < 0x80 then return string.char(c) end
    if c < 0x800 then return string.char(0xc0 + math.floor(c / 64), 0x80 + c % 64) end
    return string.char(0xe0 + math.floor(c / 4096), 0x80 + math.floor(c / 64) % 64, 0x80 + c % 64)
  end
  local ESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
  local function str()
    pos = pos + 1
    local out = {}
    while true do
      local j = s:find('["\\]', pos)
      if not j then fail() end
      out[#out + 1] = s:sub(pos, j - 1)
      if s:sub(j, j) == '"' then pos = j + 1; break end
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local c = tonumber(s:sub(j + 2, j + 5), 16)
        if not c then fail() end
        out[#out + 1] = utf8(c)
        pos = j + 6
      elseif ESC[e] then
        out[#out + 1] = ESC[e]
        pos = j + 2
      else fail() end
    end
    return table.concat(out)
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws()
        if s:sub(pos, pos) ~= '"' then fail() end
        local k = str(); ws()
        if s:sub(pos, pos) ~= ":" then fail() end
        pos = pos + 1
        t[k] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "}" then return t end
        if d ~= "," then fail() end
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then fail() end
      end
    elseif c == '"' then
      return str()
    else
      local n = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not n or n == "" then fail() end
      pos = pos + #n
      return tonumber(n) or fail()
    end
  end
  local v = value(); ws()
  if pos <= #s then fail() end
  return v
end

-- ------------------------------------------------------------------------------ packet identity

local function ipv4(s, i) return fmt("%d.%d.%d.%d", byte(s, i, i + 3)) end

local function ipv6(s, i)
  local g = {}
  for k = 0, 7 do g[k + 1] = fmt("%x", u16(s, i + 2 * k, false)) end
  -- The longest run of zero groups (two or more) becomes "::".
  local best, bestn, at, n = 0, 0, 0, 0
  for k = 1, 8 do
    if g[k] == "0" then
      if n == 0 then at = k end
      n = n + 1
      if n > bestn then best, bestn = at, n end
    else n = 0 end
  end
  if bestn < 2 then return table.concat(g, ":") end
  return table.concat(g, ":", 1, best - 1) .. "::" .. table.concat(g, ":", best + bestn, 8)
end

local PROTOS = { [1] = "ICMP", [6] = "TCP", [17] = "UDP", [58] = "ICMPv6", [132] = "SCTP" }

-- "UDP 10.0.0.1:4000 > 10.0.0.2:5001" from a packet's bytes (s from i to j), or nil.
local function identity_of(s, i, j, ethernet)
  if ethernet then
    if j - i + 1 < 14 then return nil end
    local et = u16(s, i + 12, false)
    i = i + 14
    while (et == 0x8100 or et == 0x88a8) and j - i + 1 >= 4 do
      et = u16(s, i + 2, false)
      i = i + 4
    end
    if et ~= 0x0800 and et ~= 0x86dd then return nil end
  end
  if j - i + 1 < 20 then return nil end
  local v = math.floor(byte(s, i) / 16)
  local proto, src, dst, l4
  if v == 4 then
    proto = byte(s, i + 9)
    src, dst = ipv4(s, i + 12), ipv4(s, i + 16)
    local frag = u16(s, i + 6, false) % 8192
    if frag == 0 then l4 = i + (byte(s, i) % 16) * 4 end
  elseif v == 6 then
    if j - i + 1 < 40 then return nil end
    proto = byte(s, i + 6)
    src, dst = "[" .. ipv6(s, i + 8) .. "]", "[" .. ipv6(s, i + 24) .. "]"
    l4 = i + 40
  else
    return nil
  end
  local name = PROTOS[proto] or ("proto " .. proto)
  if l4 and (proto == 6 or proto == 17 or proto == 132) and l4 + 3 <= j then
    return fmt("%s %s:%d > %s:%d", name, src, u16(s, l4, false), dst, u16(s, l4 + 2, false))
  end
  return fmt("%s %s > %s", name, src, dst)
end

-- ------------------------------------------------------------------------------------- the scan

-- What the last file read said: per frame number, its event (or a problem), and a note for every frame.
local scanned = nil -- set by read_open; taken by the dissector's init
local active = { frames = {}, note = nil }

-- The NAMES option's tables so far (each name as the file gave it: a later name replaces an earlier one).
local function new_names() return { functions = {}, reasons = {}, locations = {}, frames = {} } end

local function learn(names, json)
  local ok, v = pcall(json_decode, json)
  if not ok or type(v) ~= "table" then return false end
  for _, e in ipairs(v.functions or {}) do
    if type(e) ~= "table" or type(e[1]) ~= "string" then return false end
    names.functions[e[1]:lower()] = { module = tostring(e[2]), name = tostring(e[3]) }
  end
  for _, e in ipairs(v.reasons or {}) do
    if type(e) ~= "table" or type(e[1]) ~= "number" then return false end
    names.reasons[e[1]] = tostring(e[2])
  end
  for _, key in ipairs({ "locations", "frames" }) do
    for _, e in ipairs(v[key] or {}) do
      if type(e) ~= "table" or type(e[1]) ~= "string" then return false end
      names[key][e[1]:lower()] = tostring(e[2])
    end
  end
  return true
end

-- One event option (the bytes after the kind) checked and named: a table for the dissector, or a
-- string saying what is wrong with it.
local function event_of(ev, names)
  if #ev < RECORD_HEAD then return "the event option is " .. #ev .. " bytes, shorter than a record's 64" end
  local flags = u32(ev, 29, true)
  local depth = byte(ev, 56)
  local dev = (flags % 16 >= FLAG_DEVICE) and DEVICE_SIZE or 0
  local stack_at = RECORD_HEAD + dev
  if depth > 32 or #ev < stack_at + 8 * depth then
    return "the event option is " .. #ev .. " bytes, too short for its device part and " .. depth .. " stack frames"
  end
  local e = { ev = ev, flags = flags, dev = dev, depth = depth }
  local fn = names.functions[hex64(ev, 17)]
  e.func, e.module = fn and fn.name or "(unknown)", fn and fn.module or ""
  e.verdict = u32(ev, 33, true)
  local parent = math.floor(flags / FLAG_CLONE) % 2 == 1
  if e.verdict == 1 then
    local r = u32(ev, 37, true)
    e.reason = names.reasons[r] or tostring(r)
  end
  if e.verdict ~= 0 and not parent then
    local a = hex64(ev, 41)
    if a ~= "0x0" then e.location = names.locations[a] or a end
  end
  e.stack = {}
  for k = 0, depth - 1 do
    local a = hex64(ev, stack_at + 1 + 8 * k)
    e.stack[k + 1] = names.frames[a] or a
  end
  local after = stack_at + 8 * depth
  if #ev >= after + 4 then
    local n = u32(ev, after + 1, true)
    if #ev >= after + 4 + n then e.text = sub(ev, after + 5, after + 4 + n) end
  end
  return e
end

-- The packet an event belongs to, as ipft joins them: by track id when tracking was on, else by skb
-- address, where an event after the packet's verdict starts a new packet unless it is a return or a
-- point of the free path.
local function journey_of(journeys, e, frame)
  local ev = e.ev
  local track = hex64(ev, 57)
  local key = track ~= "0x0" and ("t" .. track) or ("s" .. hex64(ev, 1))
  local j = journeys[key]
  local continues = (e.flags % 2 == 1) or (math.floor(e.flags / FLAG_FREEING) % 2 == 1)
  if not j or (track == "0x0" and j.ended and not continues) then
    j = { hi = u32(ev, 13, true), lo = u32(ev, 9, true), frame = frame }
    journeys[key] = j
  end
  if e.verdict ~= 0 then j.ended = true end
  return j
end

-- Reads the whole file (a string) as pcapng: every frame's ipft event, or nothing when it is no ipft file.
local function scan(data)
  local out = { frames = {}, note = nil }
  local pos, frame = 1, 0
  local le = true
  local ipft_file, format = false, nil
  local names = new_names()
  local journeys = {}
  local links, nif = {}, 0 -- the section's interfaces: id -> link type
  while pos + 11 <= #data do
    local btype = u32(data, pos, le)
    if btype == 0x0a0d0d0a then
      le = u32(data, pos + 8, true) == 0x1a2b3c4d
      links, nif = {}, 0
    end
    local blen = u32(data, pos + 4, le)
    if blen < 12 or blen % 4 ~= 0 or pos + blen - 1 > #data then break end
    local body = pos + 8
    local stop = pos + blen - 4
    -- Options from `at` to `stop`: calls fn(code, start, len) for each.
    local function options(at, fn)
      while at + 3 < stop do
        local code, len = u16(data, at, le), u16(data, at + 2, le)
        if code == 0 or at + 4 + len > stop then break end
        fn(code, at + 4, len)
        at = at + 4 + len + (4 - len % 4) % 4
      end
    end
    if btype == 0x0a0d0d0a then
      options(body + 16, function(code, at, len)
        if code == 1 then
          local c = sub(data, at, at + len - 1)
          local n = c:match('^ipft:{.-"format":(%d+)')
          if n then ipft_file, format = true, tonumber(n) end
        end
      end)
      if pos == 1 and not ipft_file then return nil end -- not ipft's: nothing to keep
    elseif btype == 1 then
      links[nif] = u16(data, body, le)
      nif = nif + 1
    elseif btype == 6 or btype == 3 or btype == 2 then
      frame = frame + 1
      local entry = {}
      out.frames[frame] = entry
      if btype == 6 or btype == 2 then
        local iface = btype == 6 and u32(data, body, le) or u16(data, body, le)
        local caplen = u32(data, body + 12, le)
        entry.caplen = caplen
        local pkt = body + 20
        local link = links[iface]
        if caplen > 0 and (link == 1 or link == 101) then
          entry.ident = identity_of(data, pkt, pkt + caplen - 1, link == 1)
        end
        if FORMATS[format] then
          local event, bad
          options(pkt + caplen + (4 - caplen % 4) % 4, function(code, at, len)
            if code == OPT_PACKETID and len == 8 then
              entry.packet_id = le and UInt64.new(u32(data, at, true), u32(data, at + 4, true))
                or UInt64.new(u32(data, at + 4, false), u32(data, at, false))
            elseif code == OPT_CUSTOM_BIN and len >= 8 and u32(data, at, le) == PEN then
              local kind = u32(data, at + 4, true)
              if kind == KIND_NAMES then
                if not learn(names, sub(data, at + 8, at + len - 1)) then
                  bad = "the names option is not the JSON ipft writes"
                end
              elseif kind == KIND_EVENT then
                event = sub(data, at + 8, at + len - 1)
              end
            end
          end)
          if bad then
            entry.problem = bad
          elseif event then
            local e = event_of(event, names)
            if type(e) == "string" then
              entry.problem = e
            else
              entry.event = e
              e.journey = journey_of(journeys, e, frame)
              if entry.ident and not e.journey.ident then e.journey.ident = entry.ident end
            end
          end
        end
      end
    end
    pos = pos + blen
  end
  if not ipft_file then return nil end
  if not FORMATS[format] then
    out.note = fmt("this file is ipft trace file format %s; this plugin decodes formats 2 and 3 (read it with the ipft that wrote it)",
      tostring(format))
  end
  return out
end

-- Whether the file being opened may be read to its end and then rewound: not so for a pipe, which
-- Wireshark's reader reads from a buffer of about 128 KiB. Wireshark itself opens only regular files;
-- tshark's `-r -`, `-r /dev/stdin` and `-r <(...)` are pipes, known from its command line.
local function rewindable()
  local f = io.open("/proc/self/cmdline", "rb")
  if not f then return true end
  local args = {}
  for a in (f:read("*a") or ""):gmatch("([^%z]*)%z") do args[#args + 1] = a end
  f:close()
  for k, a in ipairs(args) do
    local path
    if a == "-r" or a == "--read-file" then path = args[k + 1]
    elseif a:sub(1, 2) == "-r" and #a > 2 then path = a:sub(3)
    elseif a:sub(1, 12) == "--read-file=" then path = a:sub(13) end
    if path and (path == "-" or path:match("^/dev/") or path:match("^/proc/")) then return false end
  end
  return true
end

local reader = FileHandler.new("ipft options", "ipft_options",
  "Reads the ipft event options of an ipft -w trace, then leaves the file to the pcapng reader", "rms")

-- Every file opened gets a fresh (maybe empty) table: the dissector's init takes it.
reader.read_open = function(file, capture)
  scanned = { frames = {}, note = nil }
  local ok, err = pcall(function()
    -- Only the section header first (it fits the buffer a pipe can be rewound in): is it ipft's?
    local head = file:read(12)
    if not head or #head < 12 or u32(head, 1, true) ~= 0x0a0d0d0a then return end
    local le = u32(head, 9, true) == 0x1a2b3c4d
    local shblen = u32(head, 5, le)
    if shblen > 65536 or shblen < 28 then return end
    local rest = file:read(shblen - 12)
    if not rest or not (head .. rest):find("ipft:{", 1, true) then return end
    if not rewindable() then
      scanned.note = "ipft's options are read from a file, not from a pipe: save the trace to a file and open that"
      return
    end
    local size = file:seek("end")
    if size and size > ipft.prefs.max_scan_mb * 1048576 then
      scanned.note = fmt("the file is larger than the preference ipft.max_scan_mb (%d MB): ipft's options were not read", ipft.prefs.max_scan_mb)
      return
    end
    file:seek("set", 0)
    scanned = scan(file:read("*a") or "") or { frames = {}, note = nil }
  end)
  if not ok then
    scanned = { frames = {}, note = "ipft's options could not be read: " .. tostring(err) }
  end
  file:seek("set", 0)
  return false
end
reader.read = function() return false end
reader.seek_read = function() return false end
register_filehandler(reader)

ipft.init = function()
  -- A file opened since the last dissection: take what its reading found. Without one (the same file
  -- dissected again) keep it. (The file chooser's preview opens files without dissecting them; the
  -- frames' length check below catches a preview's scan taken for another file.)
  if scanned then
    active = scanned
    scanned = nil
  end
end

-- ------------------------------------------------------------------------------------ dissector

local function add_event(tree, pinfo, e, entry)
  local ev = e.ev
  local tvb = ByteArray.new(ev, true):tvb("ipft event")
  local t = tree:add(ipft, tvb(), "ipft: " .. e.module .. " " .. e.func)
  t:add_le(f.skb, tvb(0, 8))
  if entry.packet_id then t:add(f.packet_id, entry.packet_id) end
  local track = tvb(56, 8):le_uint64()
  if track ~= UInt64.new(0) then t:add_le(f.track, tvb(56, 8)) end
  t:add_le(f.timestamp, tvb(8, 8))
  t:add(f.func, tvb(16, 8), e.func)
  t:add(f.module, tvb(16, 8), e.module)
  t:add_le(f.cpu, tvb(24, 4))
  t:add_le(f.flags, tvb(28, 4))
  t:add(f.is_return, tvb(28, 4), e.flags % 2 == 1)
  local clone = math.floor(e.flags / FLAG_CLONE) % 2 == 1
  if clone then t:add_le(f.parent, tvb(40, 8)) end
  if e.verdict ~= 0 then t:add_le(f.verdict, tvb(32, 4)) end
  if e.reason then
    t:add(f.reason, tvb(36, 4), e.reason)
    t:add_le(f.reason_code, tvb(36, 4))
  end
  if e.location then
    t:add(f.location, tvb(40, 8), e.location)
    t:add_le(f.location_addr, tvb(40, 8))
    local c = comment_field and comment_field()
    local why = c and tostring(c.value):match(" at [^ ]+: (.+)$")
    if why and e.reason then t:add(f.explanation, why) end
  end
  if e.dev > 0 then
    local name = tvb(RECORD_HEAD + 8, 16):stringz()
    t:add(f.device, tvb(RECORD_HEAD + 8, 16), name)
    t:add_le(f.ifindex, tvb(RECORD_HEAD, 4))
    t:add_le(f.netns, tvb(RECORD_HEAD + 4, 4))
    local desc = ifdesc_field and ifdesc_field()
    local ns = desc and tostring(desc.value):match('^netns %d+ "(.-)"')
    if ns then t:add(f.netns_name, ns) end
  end
  local j = e.journey
  local since = (u32(ev, 13, true) - j.hi) * TWO32 + (u32(ev, 9, true) - j.lo)
  if since >= 0 then
    t:add(f.since_first, tvb(8, 8), NSTime.new(math.floor(since / 1e9), since % 1e9))
  end
  t:add(f.first_frame, j.frame)
  if j.ident then t:add(f.identity, j.ident) end
  for k, name in ipairs(e.stack) do
    t:add(f.stack, tvb(RECORD_HEAD + e.dev + 8 * (k - 1), 8), name)
  end
  if e.text then t:add(f.text, e.text) end
  -- Frames without packet bytes have no protocol of their own: name the event in the columns.
  if (entry.caplen or 0) <= 4 then
    pinfo.cols.protocol = "ipft"
    local verdict = ""
    if e.verdict == 1 then verdict = " dropped (" .. e.reason .. ")"
    elseif e.verdict == 2 then verdict = " consumed" end
    pinfo.cols.info = e.module .. " " .. e.func .. verdict
  end
end

function ipft.dissector(tvb, pinfo, tree)
  local ok, err = pcall(function()
    local entry = active.frames[pinfo.number]
    if active.note then
      local t = tree:add(ipft, tvb(0, 0))
      t:add_proto_expert_info(active.note:find("format") and ei_format or ei_unread, active.note)
      return
    end
    if not entry then return end
    if entry.caplen and entry.caplen ~= tvb:len() then
      local t = tree:add(ipft, tvb(0, 0))
      t:add_proto_expert_info(ei_unread, "this frame is not the block ipft's options were read from (reload the file)")
      return
    end
    if entry.problem then
      local t = tree:add(ipft, tvb(0, 0))
      t:add_proto_expert_info(ei_damaged, "ipft's option is damaged: " .. entry.problem)
      return
    end
    if entry.event then add_event(tree, pinfo, entry.event, entry) end
  end)
  if not ok then
    local t = tree:add(ipft, tvb(0, 0))
    t:add_proto_expert_info(ei_damaged, "ipft's option could not be decoded: " .. tostring(err))
  end
end

register_postdissector(ipft)
