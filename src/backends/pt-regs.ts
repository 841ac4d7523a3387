// x86_64 struct pt_regs: where a kprobe finds the first six integer arguments and the instruction pointer.
/** Six: the plan's MAX_SKB_POS for the kprobe backends. */
export const ARG_REGS = [112, 104, 96, 88, 72, 64]; // di, si, dx, cx, r8, r9
export const IP = 128;
/** The return value, at a return probe. */
export const AX = 80;
