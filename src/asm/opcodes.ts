// eBPF opcode fields (linux/bpf_common.h, linux/bpf.h). An opcode is class | size/op | mode/src.

// Classes (low 3 bits).
export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const JMP32 = 0x06;
export const ALU64 = 0x07;

// Sizes (bits 3-4) for loads and stores.
export const W = 0x00;
export const H = 0x08;
export const B = 0x10;
export const DW = 0x18;

// Modes (bits 5-7) for loads and stores.
export const IMM = 0x00;
export const ABS = 0x20;
export const IND = 0x40;
export const MEM = 0x60;
export const ATOMIC = 0xc0;

// ALU operations (bits 4-7).
export const ADD = 0x00;
export const SUB = 0x10;
export const MUL = 0x20;
export const DIV = 0x30;
export const OR = 0x40;
export const AND = 0x50;
export const LSH = 0x60;
export const RSH = 0x70;
export const NEG = 0x80;
export const MOD = 0x90;
export const XOR = 0xa0;
export const MOV = 0xb0;
export const ARSH = 0xc0;
export const END = 0xd0;

// Jump operations (bits 4-7).
export const JA = 0x00;
export const JEQ = 0x10;
export const JGT = 0x20;
export const JGE = 0x30;
export const JSET = 0x40;
export const JNE = 0x50;
export const JSGT = 0x60;
export const JSGE = 0x70;
export const CALL = 0x80;
export const EXIT = 0x90;
export const JLT = 0xa0;
export const JLE = 0xb0;
export const JSLT = 0xc0;
export const JSLE = 0xd0;

// Source operand (bit 3): immediate or register. For END: to little or big endian.
export const K = 0x00;
export const X = 0x08;
export const TO_LE = 0x00;
export const TO_BE = 0x08;

export const classOf = (code: number): number => code & 0x07;
export const sizeOf = (code: number): number => code & 0x18;
export const modeOf = (code: number): number => code & 0xe0;
export const opOf = (code: number): number => code & 0xf0;
export const srcOf = (code: number): number => code & 0x08;

/** The opcode of the 16-byte load of a 64-bit immediate. */
export const LD_IMM64 = LD | DW | IMM;

/** src_reg of a LD_IMM64 that loads a map by fd. */
export const PSEUDO_MAP_FD = 1;
/** src_reg of a call to a bpf-to-bpf function / a kfunc. */
export const PSEUDO_CALL = 1;
export const PSEUDO_KFUNC_CALL = 2;

export const MAX_REG = 10;

// Registers: R0 return value, R1-R5 arguments (clobbered by calls), R6-R9 callee-saved, R10 frame pointer.
export const R0 = 0;
export const R1 = 1;
export const R2 = 2;
export const R3 = 3;
export const R4 = 4;
export const R5 = 5;
export const R6 = 6;
export const R7 = 7;
export const R8 = 8;
export const R9 = 9;
export const R10 = 10;
