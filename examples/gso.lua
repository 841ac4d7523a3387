-- Collects, per trace, the packet length and its GSO state:
--   skb->len, and skb_shared_info's gso_size, gso_segs and gso_type
-- (the shared info sits at skb->head + skb->end). Prints them with each trace:
--   ( len: 142 gso_size: 0 gso_segs: 1 gso_type: 0 )
--
-- Module ABI (see docs/scripting.md): R1 = the 64 data bytes, R3 = the skb; the module's stack is
-- R10-256 .. R10-1; R6-R9 are not used here, so nothing needs restoring.

local function off(t, m) return ipft.offsetof(t, m) end
local function size(t, m) return ipft.sizeof(ipft.typeof(t, m)) end

-- Data layout: len u32 @0, gso_size u16 @4, gso_segs u16 @6, gso_type u32 @8.
local read = BPF.FUNC.probe_read_kernel or BPF.FUNC.probe_read

-- probe_read(dst = data + dst_off, size, src = [src_slot] + src_off)
local function copy(dst_off, nbytes, src_slot, src_off)
  return BPF.emit({
    BPF.LDX_MEM(BPF.DW, BPF.R1, BPF.R10, -8),
    BPF.ALU64_IMM(BPF.ADD, BPF.R1, dst_off),
    BPF.MOV64_IMM(BPF.R2, nbytes),
    BPF.LDX_MEM(BPF.DW, BPF.R3, BPF.R10, src_slot),
    BPF.ALU64_IMM(BPF.ADD, BPF.R3, src_off),
    BPF.CALL_INSN(read),
  })
end

function emit()
  local end_is_offset = ipft.typeof("sk_buff", "end") ~= "uintptr_t"
  return BPF.emit({
    BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R1, -8),  -- data pointer
    BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R3, -16), -- skb
    copy(0, size("sk_buff", "len"), -16, off("sk_buff", "len")),
    -- head (a pointer) at -24; end (an offset from head, or a pointer) zero-extended at -32.
    BPF.ST_MEM(BPF.DW, BPF.R10, -32, 0),
    BPF.MOV64_REG(BPF.R1, BPF.R10), BPF.ALU64_IMM(BPF.ADD, BPF.R1, -24), BPF.MOV64_IMM(BPF.R2, 8),
    BPF.LDX_MEM(BPF.DW, BPF.R3, BPF.R10, -16), BPF.ALU64_IMM(BPF.ADD, BPF.R3, off("sk_buff", "head")),
    BPF.CALL_INSN(read),
    BPF.MOV64_REG(BPF.R1, BPF.R10), BPF.ALU64_IMM(BPF.ADD, BPF.R1, -32), BPF.MOV64_IMM(BPF.R2, size("sk_buff", "end")),
    BPF.LDX_MEM(BPF.DW, BPF.R3, BPF.R10, -16), BPF.ALU64_IMM(BPF.ADD, BPF.R3, off("sk_buff", "end")),
    BPF.CALL_INSN(read),
    -- shinfo at -40
    BPF.LDX_MEM(BPF.DW, BPF.R3, BPF.R10, -32),
    end_is_offset and BPF.LDX_MEM(BPF.DW, BPF.R4, BPF.R10, -24) or BPF.MOV64_IMM(BPF.R4, 0),
    BPF.ALU64_REG(BPF.ADD, BPF.R3, BPF.R4),
    BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R3, -40),
    copy(4, size("skb_shared_info", "gso_size"), -40, off("skb_shared_info", "gso_size")),
    copy(6, size("skb_shared_info", "gso_segs"), -40, off("skb_shared_info", "gso_segs")),
    copy(8, size("skb_shared_info", "gso_type"), -40, off("skb_shared_info", "gso_type")),
  })
end

function dump(data)
  local len, gso_size, gso_segs, gso_type = string.unpack("<I4I2I2I4", data)
  return { len = len, gso_size = gso_size, gso_segs = gso_segs, gso_type = gso_type }
end
