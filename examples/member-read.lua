-- The scripting manual's emit_member_read idiom: read struct members into the 64 data bytes, each at the
-- next free offset (push), with sizes and offsets from the running kernel's BTF. Collects skb->mark and
-- skb->len and prints them as text: "mark 0x2a len 128".

local used = 0
-- Allocates `size` bytes of the data area and returns their offset from R1.
local function push(size)
  local at = used
  used = used + size
  assert(used <= 64, "the data area is 64 bytes")
  return at
end

-- Emits code that reads struct->member (pointer in src_reg) to the data area (pointer in dst_reg).
function emit_member_read(struct, member, dst_reg, src_reg, push_fn)
  local member_offset = ipft.offsetof(struct, member)
  local member_size = ipft.sizeof(ipft.typeof(struct, member))
  return BPF.emit({
    BPF.MOV64_REG(BPF.R1, dst_reg),
    BPF.ALU64_IMM(BPF.ADD, BPF.R1, push_fn(member_size)),
    BPF.MOV64_IMM(BPF.R2, member_size),
    BPF.MOV64_REG(BPF.R3, src_reg),
    BPF.ALU64_IMM(BPF.ADD, BPF.R3, member_offset),
    BPF.CALL_INSN(BPF.FUNC.probe_read),
  })
end

function emit()
  -- R6 and R7 keep the data and skb pointers across the calls; the caller's values are saved on the
  -- module's stack and restored at the end, as the ABI asks.
  return BPF.emit({
    BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R6, -8),
    BPF.STX_MEM(BPF.DW, BPF.R10, BPF.R7, -16),
    BPF.MOV64_REG(BPF.R6, BPF.R1),
    BPF.MOV64_REG(BPF.R7, BPF.R3),
    emit_member_read("sk_buff", "mark", BPF.R6, BPF.R7, push),
    emit_member_read("sk_buff", "len", BPF.R6, BPF.R7, push),
    BPF.LDX_MEM(BPF.DW, BPF.R6, BPF.R10, -8),
    BPF.LDX_MEM(BPF.DW, BPF.R7, BPF.R10, -16),
  })
end

function dump(data)
  local mark, len = string.unpack("<I4I4", data)
  return string.format("mark 0x%x len %d", mark, len)
end
