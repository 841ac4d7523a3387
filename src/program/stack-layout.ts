// Where the main program keeps things on its 512-byte stack (offsets from R10, which points at the top).
// The picture in the scripting manual, bottom to top: reserved 0-127, builtin trace data 128-191,
// user trace data 192-255 (R1 points here), user stack 256-511 (the module's own).
// The record's fields come from src/record: this file only says where the record sits.
import {
  DATA_SIZE,
  OFF_CPU,
  OFF_DATA,
  OFF_FLAGS,
  OFF_FUNC,
  OFF_LOCATION,
  OFF_REASON,
  OFF_SKB,
  OFF_TRACK,
  OFF_TSTAMP,
  OFF_VERDICT,
  RECORD_SIZE,
} from "../record/record.js";

/** The record is built here, then sent to the ring buffer whole. */
export const RECORD = -384;
export { RECORD_SIZE };
export const REC_SKB = RECORD + OFF_SKB;
export const REC_TSTAMP = RECORD + OFF_TSTAMP;
export const REC_FUNC = RECORD + OFF_FUNC;
export const REC_CPU = RECORD + OFF_CPU;
export const REC_FLAGS = RECORD + OFF_FLAGS;
export const REC_VERDICT = RECORD + OFF_VERDICT;
export const REC_REASON = RECORD + OFF_REASON;
export const REC_LOCATION = RECORD + OFF_LOCATION;
export const REC_TRACK = RECORD + OFF_TRACK;
/** R1 for the module: the 64 bytes that dump() receives. */
export const USER_DATA = RECORD + OFF_DATA;
export const USER_DATA_SIZE = DATA_SIZE;

/** Scratch slots in the reserved area, for the main program only. */
export const SCRATCH_MARK = -392;
export const SCRATCH_KEY = -400;
/** The selection's (program/selection.ts): the pcap filter's 16 scratch words M[], R10-464 .. R10-401, */
export const SCRATCH_FILTER_M = -464;
/** the tracking map's key (the skb address, 8 bytes); its value (track id, fingerprint, last function,
 * identity device and look: 48 bytes) shares M[]'s place (tracking reads and writes it before and after the filter, never during); */
export const SCRATCH_TRACK_KEY = -472;
export const SCRATCH_TRACK_VALUE = SCRATCH_FILTER_M;
/** this point's look (program/track-fingerprint.ts), left by the lookup for the identity part, after the
 * value's 48 bytes (a found packet skips the filter: M[] is not written before the part reads it); */
export const SCRATCH_TRACK_LOOK = SCRATCH_TRACK_VALUE + 48;
/** the looked-up entry's address (a map value pointer, spilled across calls), and the key and the 1 of the
 * last-seen counters (a packet that ended unseen, by the function it was last seen at). */
export const SCRATCH_TRACK_ENTRY = -480;
export const SCRATCH_LAST_SEEN_KEY = -488;
export const SCRATCH_LAST_SEEN_ONE = -496;
/** 1 where the selection made the packet's tracking entry (its first event), 0 where it found one: the
 * identity part's signal (record/parts/identity.ts). It shares the last-seen counter's 1's place: that one
 * is written only on the way to an insert, which then writes this. */
export const SCRATCH_TRACK_FIRST = -496;
/** The clone programs' (program/clone.ts): the saved-parent map's key (pid_tgid), or the clone while its
 * parent is looked up, and the parent's address. */
export const SCRATCH_CLONE_KEY = -504;
export const SCRATCH_CLONE_PARENT = -512;
/** Until the record is zeroed, the selection also uses the record's place for what it reads from the skb,
 * and the module's stack (R10-256 .. R10-1) for the copy of the packet the filter reads. */
export const SELECT_READS = RECORD;
export const SELECT_READS_SIZE = 128;

/** The module may use R10-256 .. R10-1. */
export const MODULE_STACK = 256;
