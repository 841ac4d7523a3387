// --layout: `ipft` (the default) prints what ipft adds to ipftrace2's columns; `ipftrace2` prints the
// layout ipft printed before any of them, byte for byte, for scripts that parse it (docs/output.md). Each
// addition is one writer option (WriterOptions); the layout only chooses their defaults, so an addition
// names itself here to be turned off by `ipftrace2`.
export const LAYOUTS = ["ipft", "ipftrace2"] as const;
export type Layout = (typeof LAYOUTS)[number];

/** The additions a layout turns on. */
export interface LayoutColumns {
  /** aggregate and stream: each event's time since its packet's first event, the packet's total. */
  elapsed: boolean;
  /** json: "wall_time". */
  wallTime: boolean;
  /** The summary's slowest steps. */
  steps: boolean;
  /** Each packet's identity on its first line, its changes where they show (identity-notes.ts). */
  identity: boolean;
}

export const layoutColumns = (layout: Layout | undefined): LayoutColumns => {
  const on = layout !== "ipftrace2";
  return { elapsed: on, wallTime: on, steps: on, identity: on };
};
