// json keeps "timestamp" as the exact integer of nanoseconds since boot and adds the event's wall-clock
// time, `"wall_time":"2026-12-04T22:30:20.123456Z"` (time-column.ts: ISO 8601, UTC, microseconds).
import { HIGH_WORD, OFF_TSTAMP } from "../../record/record.js";
import type { TimeColumn } from "./time-column.js";

export const WALL_TIME_JSON = "wall_time";

/** `,"wall_time":"..."` for the record at `off`; `wall` is any TimeColumn (its wall() does not depend on
 * its mode). */
export const wallTimeJson = (wall: TimeColumn, dv: DataView, off: number): string =>
  `,"${WALL_TIME_JSON}":"${wall.wall(dv.getUint32(off + OFF_TSTAMP, true), dv.getUint32(off + OFF_TSTAMP + HIGH_WORD, true))}"`;
