// What every selector is: one test of the selection (program/selection.ts), described once. A new
// selector is a file here and a line in SELECTORS (./index.ts); its flag is parsed in cli/selectors.ts and
// its value carried in SelectSpec.
import type { Insn } from "../../asm/index.js";
import type { MarkTest, SelectSpec } from "../selection.js";
import type { SkbLayout } from "../skb-layout.js";

export interface SelectorInput {
  sel: SelectSpec;
  /** The mark, its mask and where skb->mark is; probe_read's helper id. */
  m: MarkTest;
  /** The offsets (throws when the selection was given none). */
  layout: () => SkbLayout;
  /** Where a rejected packet jumps. */
  out: string;
  /** The context's slot holding the device the point is about, read instead of skb->dev. */
  devArg: number | undefined;
}

export interface Selector {
  readonly name: string;
  /** The command-line flags that ask for it. */
  readonly flags: readonly string[];
  /** Whether this selection asks for it. */
  wanted(sel: SelectSpec): boolean;
  /** It reads through the skb layout. */
  readonly needsLayout: boolean;
  /** Its test: a rejected packet jumps to `c.out`, a selected one falls through. Registers: R6 = ctx, R7 =
   * skb (kept); R0-R5, R8, R9 are free. */
  emit(c: SelectorInput): Insn[];
}
