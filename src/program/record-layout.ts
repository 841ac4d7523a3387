// Where the caller program keeps things on its 512-byte stack (offsets from R10, which points at the top).
// The picture in the scripting manual, bottom to top: reserved 0-127, builtin trace data 128-191,
// user trace data 192-255 (R1 points here), user stack 256-511 (the module's own).

/** The 128-byte record sent to user space: builtin trace data followed by the user's 64 bytes. */
export const RECORD = -384;
export const RECORD_SIZE = 128;
export const REC_SKB = RECORD + 0;
export const REC_TSTAMP = RECORD + 8;
export const REC_FUNC = RECORD + 16;
export const REC_CPU = RECORD + 24;
export const REC_FLAGS = RECORD + 28;
/** R1 for the module: the 64 bytes that dump() receives. */
export const USER_DATA = RECORD + 64;
export const USER_DATA_SIZE = 64;

/** Scratch slots in the reserved area, for the caller only. */
export const SCRATCH_MARK = -392;
export const SCRATCH_KEY = -400;

/** The module may use R10-256 .. R10-1. */
export const MODULE_STACK = 256;

export const FLAG_RETURN = 1;
