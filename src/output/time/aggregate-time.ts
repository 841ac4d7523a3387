// The aggregate output's time since each packet's first event: a column after the first one (`Elapsed`,
// right-aligned in 10 characters: `+999.999ms` fits), and the packet's total on its `===` line.
import { fitLeft, fitRight } from "../text/columns.js";
import { type TraceStore, W_TS_HI, W_TS_LO } from "../trace-store.js";
import { diffOfHalves, elapsedText } from "./elapsed-text.js";

const WIDTH = 10;

/** The header for a first column `width` wide, with the Elapsed column or not (ipftrace2's is
 * aggregate.ts AGGREGATE_HEADER). */
export const timeHeader = (width: number, elapsed: boolean): string =>
  `${fitLeft("Timestamp", width)}${elapsed ? ` ${fitRight("Elapsed", WIDTH)}` : ""} CPU ${fitRight("Module", 24)} ${fitRight("Function", 32)}`;

const since = (s: TraceStore, first: number, i: number): number =>
  diffOfHalves(s.word(i, W_TS_LO), s.word(i, W_TS_HI), s.word(first, W_TS_LO), s.word(first, W_TS_HI));

/** ` +12.345us`: trace `i`'s time since trace `first`, its packet's first. */
export const elapsedColumn = (s: TraceStore, first: number, i: number): string =>
  ` ${elapsedText(since(s, first, i)).padStart(WIDTH)}`;

/** `, took 45.210us`: from the packet's first trace to its last (in time order). */
export const packetTotalText = (s: TraceStore, first: number, last: number): string =>
  `, took ${elapsedText(since(s, first, last), false)}`;
