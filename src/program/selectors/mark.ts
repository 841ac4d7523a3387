// -m MARK [--mask MASK]: (skb->mark & mask) == mark, the original selector.
import { asm, type Insn } from "../../asm/index.js";
import { R1, R7, R10 } from "../../asm/opcodes.js";
import { probeReadInto } from "../probe-read.js";
import { SCRATCH_MARK } from "../stack-layout.js";
import type { Selector } from "./selector.js";

export const markSelector: Selector = {
  name: "mark",
  flags: ["-m", "--mask"],
  wanted: (sel) => sel.markTest,
  needsLayout: false,
  // mark = *(u32 *)(skb + markOffset), read with probe_read: the skb is not a trusted pointer everywhere.
  emit: ({ m, out }) => {
    const p: Insn[] = [
      ...probeReadInto(SCRATCH_MARK, 4, R7, m.markOffset, m.probeRead, out),
      asm.ldxMem(asm.W, R1, R10, SCRATCH_MARK),
    ];
    // 32-bit ALU and compare: a u32 immediate must not be sign-extended to 64 bits.
    if (m.mask !== 0xffffffff) p.push(asm.alu32Imm(asm.AND, R1, m.mask | 0));
    p.push(asm.jmp32Imm(asm.JNE, R1, (m.mark & m.mask) | 0, out));
    return p;
  },
};
